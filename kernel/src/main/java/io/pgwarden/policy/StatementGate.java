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

    /** The text with its literals replaced by $1, $2, … (audit.redact_literals). */
    String withoutLiterals(String sql);
}
