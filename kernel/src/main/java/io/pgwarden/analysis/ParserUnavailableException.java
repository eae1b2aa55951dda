package io.pgwarden.analysis;

/**
 * libpg_query, PostgreSQL's parser as a library, cannot be loaded. The gateway must not
 * start without it (every statement is analysed before it is forwarded); the message tells
 * the operator which package to install and where the gateway looked.
 */
public final class ParserUnavailableException extends Exception {
    private static final long serialVersionUID = 1L;

    ParserUnavailableException(String message) {
        super(message);
    }

    ParserUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
