package io.pgwarden.plugins.oidc;

import java.util.Map;

/** Claim lookup by name or dotted path ({@code realm_access.roles}, Keycloak's role claim). */
final class ClaimPath {
    private ClaimPath() {
    }

    /**
     * The value at {@code path}. A claim whose name itself contains dots (namespaced claims such
     * as {@code https://example.com/groups}) is found by its full name first.
     */
    static Object resolve(Map<String, Object> claims, String path) {
        if (claims.containsKey(path)) {
            return claims.get(path);
        }
        Object current = claims;
        for (String part : path.split("\\.")) {
            if (!(current instanceof Map<?, ?> map)) {
                return null;
            }
            current = map.get(part);
        }
        return current;
    }
}
