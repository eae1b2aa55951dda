package io.pgwarden.analysis;

/**
 * PostgreSQL's grammar (libpg_query) rejected the text: the message and position are what
 * PostgreSQL's own parser reports, e.g. {@code syntax error at or near "FORM"}. SQLSTATE
 * 42601, as PostgreSQL answers; the server would never have run the statement either.
 */
public final class SqlSyntaxException extends AnalysisException {
    private static final long serialVersionUID = 1L;

    private final int position;

    SqlSyntaxException(String message, int position) {
        super(message);
        this.position = Math.max(0, position);
    }

    @Override
    public String sqlState() {
        return "42601";
    }

    @Override
    public int position() {
        return position;
    }
}
