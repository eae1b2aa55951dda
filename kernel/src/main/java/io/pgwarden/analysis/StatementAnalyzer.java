package io.pgwarden.analysis;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The entry point of statement analysis: parses a query string with PostgreSQL's grammar and
 * analyses each statement in it, caching the result by the exact text. Pure (no network, no
 * database) and thread safe; one instance serves the whole gateway.
 *
 * <p>Callers: the simple Query message's string as a whole (each statement's analysis comes
 * with its text); a Parse message's string (PostgreSQL refuses more than one statement there,
 * "cannot insert multiple commands into a prepared statement", so a caller should too).
 * Texts are Java strings: the caller decodes the client's bytes in the session's
 * client_encoding and must refuse bytes that do not decode, or the server could read a
 * different statement than the one analysed.
 */
public final class StatementAnalyzer {
    public static final int DEFAULT_CACHE_ENTRIES = 4096;
    public static final long DEFAULT_CACHE_BYTES = 32L << 20;
    /** Longer texts are analysed every time (a cached analysis costs about four times the text). */
    public static final int MAX_CACHED_TEXT = 64 * 1024;
    /**
     * Longer texts are refused. The parse tree that libpg_query returns is about 12 times the
     * statement's size as JSON (measured: a 2.3 MB multi-row INSERT gave 29 MB), and Jackson's
     * tree several times that again; bulk loads belong in COPY, which is not parsed row by row.
     */
    public static final int DEFAULT_MAX_STATEMENT_BYTES = 8 << 20;

    private final PgQueryLibrary library;
    private final AnalysisCache cache;
    /** Fingerprints by exact text: the audit asks for one per statement, most of them repeats. */
    private final AnalysisCache fingerprints;
    /** Output lineage by exact statement text, for sessions that mask. */
    private final AnalysisCache lineages;
    private final int maxStatementBytes;
    private final ObjectMapper json;

    public StatementAnalyzer(PgQueryLibrary library, int cacheEntries, long cacheBytes, int maxStatementBytes)
            throws ParserUnavailableException {
        this.library = library;
        this.cache = new AnalysisCache(cacheEntries, cacheBytes, MAX_CACHED_TEXT);
        this.fingerprints = new AnalysisCache(cacheEntries, cacheBytes / 4, MAX_CACHED_TEXT);
        this.lineages = new AnalysisCache(cacheEntries, cacheBytes / 2, MAX_CACHED_TEXT);
        this.maxStatementBytes = maxStatementBytes;
        // The walker refuses trees deeper than MAX_DEPTH nodes; a node is at most four JSON
        // levels (wrapper, body, list, typed field), so deeper JSON is refused here already.
        this.json = new ObjectMapper(JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(4 * StatementWalker.MAX_DEPTH + 16)
                        .maxStringLength(Integer.MAX_VALUE)
                        .build())
                .build());
        selfTest();
    }

    /** Loads libpg_query and builds an analyzer with the default limits: call it at start-up. */
    public static StatementAnalyzer create() throws ParserUnavailableException {
        return new StatementAnalyzer(PgQueryLibrary.load(), DEFAULT_CACHE_ENTRIES, DEFAULT_CACHE_BYTES,
                DEFAULT_MAX_STATEMENT_BYTES);
    }

    /**
     * Every statement of the query string, in order; empty for a string with no statement
     * (only whitespace, comments or semicolons: PostgreSQL answers EmptyQueryResponse). Any
     * statement that cannot be parsed or analysed fails the whole string, as PostgreSQL runs
     * none of a multi-statement string that does not parse.
     */
    public List<AnalyzedStatement> analyze(String sql) throws AnalysisException {
        Object cached = cache.get(sql);
        if (cached == null) {
            try {
                cached = analyzeUncached(sql);
            } catch (AnalysisException e) {
                cached = e;
            }
            cache.put(sql, cached);
        }
        if (cached instanceof AnalysisException e) {
            throw e;
        }
        @SuppressWarnings("unchecked")
        List<AnalyzedStatement> statements = (List<AnalyzedStatement>) cached;
        return statements;
    }

    /**
     * Where a statement's values come from, for masking: computed only for sessions whose
     * policy masks (the statement is parsed again, then cached by its text), so that policies
     * without masking pay nothing for it.
     */
    public OutputLineage lineage(AnalyzedStatement statement) {
        Object cached = lineages.get(statement.text());
        if (cached == null) {
            try {
                JsonNode root = readTree(library.parseJson(PgQueryLibrary.utf8WithoutNul(statement.text())));
                JsonNode stmts = root.path("stmts");
                cached = stmts.size() == 1 ? OutputLineage.of(stmts.get(0).get("stmt")) : LINEAGE_UNKNOWN;
            } catch (AnalysisException e) {
                cached = LINEAGE_UNKNOWN; // it was analysed a moment ago; without lineage, everything derived counts
            }
            lineages.put(statement.text(), cached);
        }
        return cached == LINEAGE_UNKNOWN ? null : (OutputLineage) cached;
    }

    private static final Object LINEAGE_UNKNOWN = new Object();

    /** libpg_query's fingerprint (16 hex digits) for audit: equal for texts that differ only in literals and layout. */
    public String fingerprint(String sql) throws AnalysisException {
        Object cached = fingerprints.get(sql);
        if (cached == null) {
            try {
                cached = library.fingerprint(sql);
            } catch (AnalysisException e) {
                cached = e;
            }
            fingerprints.put(sql, cached);
        }
        if (cached instanceof AnalysisException e) {
            throw e;
        }
        return (String) cached;
    }

    /** The text with literals replaced by $n, for audit with redact_literals. */
    public String normalize(String sql) throws AnalysisException {
        return library.normalize(sql);
    }

    public PgQueryLibrary library() {
        return library;
    }

    int cachedTexts() {
        return cache.size();
    }

    private List<AnalyzedStatement> analyzeUncached(String sql) throws AnalysisException {
        byte[] utf8 = PgQueryLibrary.utf8WithoutNul(sql);
        if (utf8.length > maxStatementBytes) {
            throw new UnanalyzableStatementException("the query is too large to analyse (" + utf8.length
                    + " bytes; the gateway's limit is " + maxStatementBytes + ")");
        }
        JsonNode root = readTree(library.parseJson(utf8));
        checkFields(root, "ParseResult", "version", "stmts");
        List<AnalyzedStatement> statements = new ArrayList<>();
        for (JsonNode raw : root.path("stmts")) {
            checkFields(raw, "RawStmt", "stmt", "stmt_location", "stmt_len");
            long offset = raw.path("stmt_location").asLong(0);
            long length = raw.has("stmt_len") ? raw.path("stmt_len").asLong(0) : utf8.length - offset;
            if (length == 0) {
                length = utf8.length - offset; // 0 means "to the end of the string"
            }
            if (offset < 0 || length < 0 || offset + length > utf8.length) {
                throw new UnanalyzableStatementException("statement boundaries out of range");
            }
            StatementAnalysis analysis = StatementWalker.analyse(raw.get("stmt"));
            String text = new String(utf8, (int) offset, (int) length, StandardCharsets.UTF_8);
            statements.add(new AnalyzedStatement(text, (int) offset, (int) length, analysis));
        }
        return List.copyOf(statements);
    }

    private JsonNode readTree(byte[] tree) throws UnanalyzableStatementException {
        try {
            JsonNode root = json.readTree(tree);
            if (root == null || !root.isObject()) {
                throw new UnanalyzableStatementException("the parser returned no tree");
            }
            return root;
        } catch (StreamConstraintsException e) {
            throw new UnanalyzableStatementException("the statement is nested too deeply (more than "
                    + StatementWalker.MAX_DEPTH + " levels)");
        } catch (JacksonException e) {
            throw new UnanalyzableStatementException("the parser's tree could not be read");
        } catch (IOException e) {
            throw new UnanalyzableStatementException("the parser's tree could not be read");
        }
    }

    private static void checkFields(JsonNode node, String type, String... known) throws UnanalyzableStatementException {
        if (!node.isObject()) {
            throw UnanalyzableStatementException.unsupported(type);
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext();) {
            String name = names.next();
            if (!List.of(known).contains(name)) {
                throw UnanalyzableStatementException.unsupported(type + "." + name);
            }
        }
    }

    /** Fails start-up, not the first statement, if the library is not the PostgreSQL 15 grammar. */
    private void selfTest() throws ParserUnavailableException {
        try {
            JsonNode root = readTree(library.parseJson("SELECT 1".getBytes(StandardCharsets.UTF_8)));
            int version = root.path("version").asInt(0);
            if (version / 10000 != 15) {
                throw new ParserUnavailableException(library.path() + " parses PostgreSQL " + version
                        + " syntax; the gateway is built for libpg_query with the PostgreSQL 15 grammar (Debian package "
                        + PgQueryLibrary.DEBIAN_PACKAGE + ")");
            }
        } catch (AnalysisException e) {
            throw new ParserUnavailableException(library.path() + " does not parse \"SELECT 1\": " + e.getMessage(), e);
        }
    }
}
