package io.pgwarden.plugin.api;

import java.util.Objects;

/**
 * The outcome of one {@link Authenticator#authenticate} call. The gateway tries its
 * authenticators in configured order; the first {@link Accepted} wins. A {@link Rejected}
 * reason goes to the operator's log only. The client sees a generic failure, plus the
 * {@code clientDetail} of the first rejection that has one: give it only where telling the
 * agent what was wrong helps its operator and teaches a probe nothing (an expired token,
 * a wrong audience), never for a guessed secret, and never with any part of the credential.
 */
public sealed interface AuthenticationResult {

    record Accepted(Identity identity) implements AuthenticationResult {
        public Accepted {
            Objects.requireNonNull(identity, "identity");
        }
    }

    /**
     * @param reason       for the operator's log
     * @param clientDetail a short sentence the client may read, or null
     */
    record Rejected(String reason, String clientDetail) implements AuthenticationResult {
        public Rejected {
            Objects.requireNonNull(reason, "reason");
        }

        public Rejected(String reason) {
            this(reason, null);
        }
    }

    static AuthenticationResult accepted(Identity identity) {
        return new Accepted(identity);
    }

    static AuthenticationResult rejected(String reason) {
        return new Rejected(reason, null);
    }

    static AuthenticationResult rejected(String reason, String clientDetail) {
        return new Rejected(reason, clientDetail);
    }
}
