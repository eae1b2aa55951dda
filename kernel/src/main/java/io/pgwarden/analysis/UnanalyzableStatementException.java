package io.pgwarden.analysis;

/**
 * Valid SQL that the gateway cannot classify with certainty: a node type or field the walker
 * does not know, a statement kind it does not support, or a tree too deep or too large.
 * Such a statement is denied (DESIGN §6: SQLSTATE 42501) rather than forwarded with an
 * incomplete picture of what it does. The message reads "statement could not be analysed:
 * " followed by the reason, e.g. "unsupported construct CreateSubscriptionStmt".
 */
public final class UnanalyzableStatementException extends AnalysisException {
    private static final long serialVersionUID = 1L;

    private final String reason;

    UnanalyzableStatementException(String reason) {
        super("statement could not be analysed: " + reason);
        this.reason = reason;
    }

    static UnanalyzableStatementException unsupported(String construct) {
        return new UnanalyzableStatementException("unsupported construct " + construct);
    }

    /** The reason alone, without the leading "statement could not be analysed". */
    public String reason() {
        return reason;
    }

    @Override
    public String sqlState() {
        return "42501";
    }
}
