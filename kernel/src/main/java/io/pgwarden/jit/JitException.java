package io.pgwarden.jit;

/**
 * A just-in-time role could not be made or removed. {@link #sqlState} is the upstream's
 * code when the database refused a statement, else null. For the operator's log only.
 */
public final class JitException extends Exception {
    private static final long serialVersionUID = 1L;
    private final String sqlState;

    JitException(String message, String sqlState) {
        super(message);
        this.sqlState = sqlState;
    }

    JitException(String message, Throwable cause) {
        super(message, cause);
        this.sqlState = null;
    }

    public String sqlState() {
        return sqlState;
    }
}
