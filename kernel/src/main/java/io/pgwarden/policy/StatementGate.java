package io.pgwarden.policy;

/**
 * The per-session decision on each statement before it is forwarded: called on the
 * session's event loop, synchronously, with nothing but text in and a {@link Verdict} out.
 * It may keep what a session's earlier statements changed (search_path, SQL-level prepared
 * statements), so one instance serves one session.
 */
public interface StatementGate {

    /** A simple-protocol Query: the whole string is allowed or refused as one. */
    Verdict query(String sql);

    /** An extended-protocol Parse of {@code sql} as statement {@code name} ("" for the unnamed one). */
    Verdict parse(String name, String sql);

    /**
     * Changes whenever something that decisions depend on changes (the schemas the session's
     * search_path may hold): a statement decided under another generation is decided again
     * before it runs.
     */
    long generation();

    /**
     * A Bind/Execute of statement {@code name} through the protocol: SQL-level PREPARE and the
     * protocol's Parse share one namespace, so the name may be a statement PREPAREd at SQL
     * level, which runs under the current search_path. Refused when a statement PREPAREd
     * under that name would be refused now; allowed when there is none.
     */
    default Verdict executePrepared(String name) {
        return new Verdict.Allowed(Verdict.Summary.NONE);
    }

    /** The text with its literals replaced by $1, $2, … (audit.redact_literals). */
    String withoutLiterals(String sql);

    /** What the upstream's catalog says about the policy's masked columns, read at login. */
    default void maskingCatalog(io.pgwarden.masking.MaskingCatalog catalog) {
    }

    /** Whether the session's policy has content detection rules. */
    default boolean detectsContent() {
        return false;
    }

    /** {@code text} with what the content detection rules find masked (for notification payloads). */
    default String maskContent(String text) {
        return text;
    }

    /** Whether the session's policy masks anything (then results are inspected). */
    default boolean masks() {
        return false;
    }
}
