package io.pgwarden.plugins.statickeys;

import io.pgwarden.plugin.api.Authenticator;
import io.pgwarden.plugin.api.AuthenticatorFactory;
import io.pgwarden.plugin.api.PluginConfig;
import io.pgwarden.plugin.api.PluginConfigException;
import io.pgwarden.plugin.api.PluginContext;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.pf4j.Extension;

/**
 * {@code type: static-keys}: agents present a gateway-issued key as their password. The
 * configuration holds only each key's SHA-256 digest, so a leaked config file yields no key.
 */
@Extension
public final class StaticKeysAuthenticatorFactory implements AuthenticatorFactory {
    static final String TYPE = "static-keys";
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-fA-F]{64}");

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Authenticator create(PluginConfig config, PluginContext context) throws PluginConfigException {
        config.requireOnlyKeys(Set.of("type", "name", "keys"));
        List<PluginConfig> entries = config.configList("keys");
        if (entries.isEmpty()) {
            throw new PluginConfigException(config.path() + ".keys", "at least one key is required");
        }
        List<AgentKey> keys = new ArrayList<>();
        Set<String> names = new HashSet<>();
        Set<String> digests = new HashSet<>();
        for (PluginConfig entry : entries) {
            entry.requireOnlyKeys(Set.of("name", "key_sha256", "groups"));
            String name = entry.string("name");
            if (name.isBlank()) {
                throw new PluginConfigException(entry.path() + ".name", "must not be blank");
            }
            if (!names.add(name)) {
                throw new PluginConfigException(entry.path() + ".name", "\"" + name + "\" is used by another key");
            }
            String hex = entry.string("key_sha256");
            if (!SHA256_HEX.matcher(hex).matches()) {
                throw new PluginConfigException(entry.path() + ".key_sha256",
                        "must be 64 hexadecimal digits (the SHA-256 of the key; `printf %s KEY | sha256sum`)");
            }
            if (!digests.add(hex.toLowerCase(java.util.Locale.ROOT))) {
                throw new PluginConfigException(entry.path() + ".key_sha256", "the same key is configured twice");
            }
            keys.add(new AgentKey(name, HexFormat.of().parseHex(hex), Set.copyOf(entry.stringList("groups"))));
        }
        return new StaticKeysAuthenticator(keys);
    }
}
