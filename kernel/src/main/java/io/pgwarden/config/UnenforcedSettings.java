package io.pgwarden.config;

import io.pgwarden.config.GatewayConfig.Policy;
import java.util.ArrayList;
import java.util.List;

/**
 * Settings that the configuration accepts but this version of the gateway does not yet
 * carry out. Security settings fail closed: a gateway asked to mask, restrict, approve or
 * audit something that it cannot must not start and let the traffic through as if it had.
 */
public final class UnenforcedSettings {

    private UnenforcedSettings() {
    }

    /** Each entry is "path: what is missing"; empty when everything configured is enforced. */
    public static List<String> find(GatewayConfig config) {
        List<String> found = new ArrayList<>();
        if (config.store().url().toLowerCase(java.util.Locale.ROOT).startsWith("jdbc:postgresql:")) {
            found.add("store.url: a PostgreSQL store shared by several gateways is not available in this version; "
                    + "use the embedded jdbc:h2:file:PATH");
        }
        return List.copyOf(found);
    }
}
