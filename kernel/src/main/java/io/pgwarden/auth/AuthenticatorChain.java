package io.pgwarden.auth;

import io.pgwarden.plugin.api.AuthenticationResult;
import io.pgwarden.plugin.api.Authenticator;
import io.pgwarden.plugin.api.Credentials;
import io.pgwarden.plugin.api.Identity;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The configured authenticators in order: the first that accepts decides the identity.
 * A fault inside a plugin counts as a rejection (fail closed), never as a pass.
 */
public final class AuthenticatorChain implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AuthenticatorChain.class);

    public record Named(String instance, Authenticator authenticator) {
    }

    /**
     * Either an identity, or the reasons each authenticator gave (for the operator's log) and
     * the first client-safe detail any of them offered (or null).
     */
    public record Outcome(Identity identity, List<String> rejections, String clientDetail) {
        public boolean accepted() {
            return identity != null;
        }
    }

    private final List<Named> authenticators;

    public AuthenticatorChain(List<Named> authenticators) {
        this.authenticators = List.copyOf(authenticators);
    }

    public Outcome authenticate(Credentials credentials) {
        List<String> rejections = new ArrayList<>();
        String clientDetail = null;
        for (Named named : authenticators) {
            AuthenticationResult result;
            try {
                result = named.authenticator().authenticate(credentials);
            } catch (RuntimeException e) {
                LOG.error("authenticator {} failed while checking a credential from {}", named.instance(),
                        credentials.clientAddress(), e);
                rejections.add(named.instance() + ": authenticator fault (" + e.getClass().getSimpleName() + ")");
                continue;
            }
            switch (result) {
                case AuthenticationResult.Accepted a -> {
                    return new Outcome(a.identity(), List.of(), null);
                }
                case AuthenticationResult.Rejected r -> {
                    rejections.add(named.instance() + ": " + r.reason());
                    if (clientDetail == null) {
                        clientDetail = r.clientDetail();
                    }
                }
                case null -> rejections.add(named.instance() + ": authenticator returned no result");
            }
        }
        return new Outcome(null, rejections, clientDetail);
    }

    @Override
    public void close() {
        for (Named named : authenticators) {
            try {
                named.authenticator().close();
            } catch (Exception e) {
                LOG.warn("authenticator {} did not close cleanly", named.instance(), e);
            }
        }
    }
}
