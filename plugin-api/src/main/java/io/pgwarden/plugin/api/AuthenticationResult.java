package io.pgwarden.plugin.api;

import java.util.Objects;

/**
 * The outcome of one {@link Authenticator#authenticate} call. The gateway tries its
 * authenticators in configured order; the first {@link Accepted} wins. A {@link Rejected}
 * reason goes to the operator's log only: the client always sees the same generic failure,
 * so a probe learns nothing about which check failed.
 */
public sealed interface AuthenticationResult {

    record Accepted(Identity identity) implements AuthenticationResult {
        public Accepted {
            Objects.requireNonNull(identity, "identity");
        }
    }

    record Rejected(String reason) implements AuthenticationResult {
        public Rejected {
            Objects.requireNonNull(reason, "reason");
        }
    }

    static AuthenticationResult accepted(Identity identity) {
        return new Accepted(identity);
    }

    static AuthenticationResult rejected(String reason) {
        return new Rejected(reason);
    }
}
