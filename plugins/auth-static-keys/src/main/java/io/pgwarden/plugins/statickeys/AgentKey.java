package io.pgwarden.plugins.statickeys;

import java.util.Set;

/** One configured key: the agent it identifies, the key's SHA-256 digest, its groups. */
record AgentKey(String name, byte[] sha256, Set<String> groups) {
}
