package io.pgwarden.analysis;

/**
 * A statement the gateway will not forward because it could not be analysed. The message is
 * written for the client (STYLE §3): it is PostgreSQL's own parser message, or names the
 * construct that the analysis does not know, never internal state. Instances carry no stack
 * trace and are immutable, so the analysis cache may hand the same one to every thread.
 */
public abstract sealed class AnalysisException extends Exception
        permits SqlSyntaxException, UnanalyzableStatementException {
    private static final long serialVersionUID = 1L;

    AnalysisException(String message) {
        super(message, null, false, false);
    }

    /** The SQLSTATE for the client's ErrorResponse. */
    public abstract String sqlState();

    /**
     * The error position for the ErrorResponse's P field: a 1-based character (not byte)
     * index into the whole query string, or 0 when there is none.
     */
    public int position() {
        return 0;
    }
}
