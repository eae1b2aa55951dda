package io.pgwarden.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.pgwarden.policy.Verdict;
import io.pgwarden.wire.BackendMessages;

/**
 * An error the gateway itself sends to a client. Only the named factories below make one,
 * so every text a client can read from the gateway is written here, with a real SQLSTATE,
 * and none carries exception text, internal state or a secret (STYLE §3).
 */
public record ClientError(String severity, String sqlState, String message, String detail, String hint) {

    public static final String FATAL = "FATAL";
    public static final String ERROR = "ERROR";

    public ByteBuf encode(ByteBufAllocator alloc) {
        return BackendMessages.errorOrNotice(alloc, BackendMessages.ERROR_RESPONSE, severity, sqlState, message, detail, hint);
    }

    public static ClientError protocolViolation(String what) {
        return new ClientError(FATAL, "08P01", what, null, null);
    }

    public static ClientError messageTooLarge(long limit) {
        return new ClientError(FATAL, "08P01", "invalid message length: larger than the gateway's limit of " + limit + " bytes",
                null, "The limit is limits.max_message_size in the gateway's configuration.");
    }

    public static ClientError unsupportedProtocol(String what) {
        return new ClientError(FATAL, "0A000", what, null, null);
    }

    public static ClientError tlsRequired() {
        return new ClientError(FATAL, "28000", "pgwarden accepts credentials only over TLS",
                null, "Connect with sslmode=require (or verify-full with the gateway's certificate).");
    }

    public static ClientError noUserName() {
        return new ClientError(FATAL, "28000", "no PostgreSQL user name specified in startup packet", null, null);
    }

    public static ClientError replicationNotSupported() {
        return new ClientError(FATAL, "0A000", "replication connections are not supported through pgwarden", null, null);
    }

    public static ClientError forbiddenStartupParameter(String name) {
        return new ClientError(FATAL, "42501", "startup parameter \"" + name + "\" may not change the session's role through pgwarden",
                null, "The gateway decides the database role from the agent's identity and policy.");
    }

    /** @param detail what the authenticator allows the client to learn (no credential), or null */
    public static ClientError authenticationFailed(String user, String detail) {
        return new ClientError(FATAL, "28P01", "password authentication failed for user \"" + user + "\"",
                detail, "pgwarden expects an agent key or an identity token as the password.");
    }

    public static ClientError tooManyAuthenticationFailures() {
        return new ClientError(FATAL, "28000", "too many failed authentication attempts from this address",
                null, "Wait a minute before trying again.");
    }

    public static ClientError noMatchingPolicy(String identity, String database) {
        return new ClientError(FATAL, "28000", "no policy admits identity \"" + identity + "\" to database \"" + database + "\"",
                "No policy's match (groups or names) fits this identity.", null);
    }

    public static ClientError databaseNotAllowed(String identity, String database, String policy, String upstream) {
        return new ClientError(FATAL, "28000", "identity \"" + identity + "\" may not connect to database \"" + database + "\"",
                "Policy \"" + policy + "\" admits this identity to upstream \"" + upstream + "\" only.", null);
    }

    public static ClientError upstreamUnavailable(String upstream, String sessionId) {
        return new ClientError(FATAL, "08001", "could not connect to upstream \"" + upstream + "\"",
                "The gateway's operators can find the cause under session " + sessionId + ".", null);
    }

    public static ClientError upstreamLost(String sessionId) {
        return new ClientError(FATAL, "08006", "the connection to the database was lost",
                "Session " + sessionId + ".", null);
    }

    public static ClientError startupTimeout() {
        return new ClientError(FATAL, "08P01", "canceling authentication due to timeout", null, null);
    }

    public static ClientError idleTimeout() {
        return new ClientError(FATAL, "57P05", "terminating connection due to idle-session timeout", null, null);
    }

    public static ClientError sessionLifetimeEnded(String why) {
        return new ClientError(FATAL, "28000", "terminating connection: " + why,
                null, "Connect again with a fresh credential.");
    }

    /**
     * A statement the gateway will not forward. The texts come from the policy layer, which
     * writes them for the client (policy, command and relation names; never internals).
     */
    public static ClientError statementRefused(Verdict.Refused refused) {
        return new ClientError(ERROR, refused.sqlState(), refused.message(), refused.detail(), refused.hint());
    }

    /** Fail closed: a statement that cannot be recorded does not run. */
    public static ClientError auditUnavailable(String sessionId) {
        return new ClientError(ERROR, "58000", "statement not run: the gateway cannot record it in its audit trail (session "
                + sessionId + ")", null, "Try again later; the gateway's operator has been told why.");
    }

    public static ClientError unsupportedClientEncoding(String encoding) {
        return new ClientError(FATAL, "0A000", "pgwarden does not support client_encoding \"" + encoding + "\"",
                "The gateway reads every statement as UTF-8 to check it.", "Use client_encoding UTF8.");
    }

    /** What PostgreSQL says for pg_terminate_backend, so clients treat it the same way. */
    public static ClientError terminatedByAdministrator() {
        return new ClientError(FATAL, "57P01", "terminating connection due to administrator command",
                "The session was ended through the pgwarden admin API.", null);
    }

    public static ClientError tooManyConnections() {
        return new ClientError(FATAL, "53300", "sorry, too many clients already", null, null);
    }

    public static ClientError shuttingDown() {
        return new ClientError(FATAL, "57P01", "terminating connection because the gateway is shutting down", null, null);
    }

    public static ClientError unexpectedMessage(char type, String expected) {
        return new ClientError(FATAL, "08P01", "expected " + expected + ", got message type \"" + type + "\"", null, null);
    }

    public static ClientError internal(String sessionId) {
        return new ClientError(FATAL, "XX000", "internal error in the gateway (session " + sessionId + ")", null, null);
    }
}
