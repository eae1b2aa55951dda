package io.pgwarden.plugin.api;

import java.util.Map;
import java.util.Objects;

/**
 * What a client presented at connection start. The secret is the PostgreSQL password field,
 * which carries an agent key or an identity token.
 *
 * @param userName          the {@code user} startup parameter
 * @param secret            the password the client sent (never logged: see {@link #toString()})
 * @param database          the {@code database} startup parameter
 * @param clientAddress     the client's IP address as text
 * @param startupParameters every startup parameter the client sent
 */
public record Credentials(String userName, String secret, String database, String clientAddress,
                          Map<String, String> startupParameters) {
    public Credentials {
        Objects.requireNonNull(userName, "userName");
        Objects.requireNonNull(secret, "secret");
        Objects.requireNonNull(database, "database");
        Objects.requireNonNull(clientAddress, "clientAddress");
        startupParameters = Map.copyOf(startupParameters);
    }

    /** Leaves the secret out so that a logged record never carries a key or token. */
    @Override
    public String toString() {
        return "Credentials[userName=" + userName + ", database=" + database
                + ", clientAddress=" + clientAddress + ", secret=<" + secret.length() + " chars>]";
    }
}
