package io.pgwarden.plugin.api;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * One plugin instance's configuration: the YAML mapping of its entry as plain Java values
 * (String, Number, Boolean, List, Map), with typed accessors whose errors carry the key's
 * full path so the operator can find it in the file.
 */
public final class PluginConfig {
    private final String path;
    private final Map<String, Object> values;

    public PluginConfig(String path, Map<String, ?> values) {
        this.path = path;
        this.values = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /** Where this entry sits in the configuration, e.g. {@code authenticators[0]}. */
    public String path() {
        return path;
    }

    public Map<String, Object> asMap() {
        return values;
    }

    /** Fails on keys outside {@code allowed}: a misspelt key must not silently fall back to a default. */
    public void requireOnlyKeys(Set<String> allowed) throws PluginConfigException {
        for (String key : values.keySet()) {
            if (!allowed.contains(key)) {
                throw new PluginConfigException(path + "." + key,
                        "unknown key (known keys: " + String.join(", ", new TreeSet<>(allowed)) + ")");
            }
        }
    }

    public String string(String key) throws PluginConfigException {
        return optionalString(key).orElseThrow(() -> new PluginConfigException(path + "." + key, "is required"));
    }

    public Optional<String> optionalString(String key) throws PluginConfigException {
        Object value = values.get(key);
        if (value == null) {
            return Optional.empty();
        }
        if (value instanceof String s) {
            return Optional.of(s);
        }
        if (value instanceof Number || value instanceof Boolean) {
            return Optional.of(value.toString());
        }
        throw new PluginConfigException(path + "." + key, "must be a string, not " + describe(value));
    }

    public List<String> stringList(String key) throws PluginConfigException {
        Object value = values.get(key);
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof List<?> list)) {
            throw new PluginConfigException(path + "." + key, "must be a list of strings, not " + describe(value));
        }
        List<String> result = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof String s)) {
                throw new PluginConfigException(path + "." + key + "[" + i + "]", "must be a string, not " + describe(list.get(i)));
            }
            result.add(s);
        }
        return List.copyOf(result);
    }

    /** A list of mappings, each returned as a nested config whose path ends in {@code key[i]}. */
    public List<PluginConfig> configList(String key) throws PluginConfigException {
        Object value = values.get(key);
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof List<?> list)) {
            throw new PluginConfigException(path + "." + key, "must be a list of mappings, not " + describe(value));
        }
        List<PluginConfig> result = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            String itemPath = path + "." + key + "[" + i + "]";
            if (!(list.get(i) instanceof Map<?, ?> map)) {
                throw new PluginConfigException(itemPath, "must be a mapping, not " + describe(list.get(i)));
            }
            result.add(new PluginConfig(itemPath, stringKeyed(itemPath, map)));
        }
        return List.copyOf(result);
    }

    private static Map<String, Object> stringKeyed(String path, Map<?, ?> map) throws PluginConfigException {
        Map<String, Object> result = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getKey() instanceof String k)) {
                throw new PluginConfigException(path, "keys must be strings");
            }
            result.put(k, e.getValue());
        }
        return result;
    }

    private static String describe(Object value) {
        if (value instanceof List<?>) {
            return "a list";
        }
        if (value instanceof Map<?, ?>) {
            return "a mapping";
        }
        return "a " + value.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    public String toString() {
        return "PluginConfig[" + path + ", keys=" + values.keySet() + "]";
    }
}
