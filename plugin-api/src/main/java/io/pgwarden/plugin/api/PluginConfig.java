package io.pgwarden.plugin.api;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One plugin instance's configuration: the YAML mapping of its entry as plain Java values
 * (String, Number, Boolean, List, Map), with typed accessors whose errors carry the key's
 * full path so the operator can find it in the file.
 */
public final class PluginConfig {
    /** The gateway's own duration notation (docs/configuration.md): a whole number and a unit. */
    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})\\s*(ms|s|m|h|d)");

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

    /** A whole number; a decimal, a string or anything else is an error naming the key. */
    public Optional<Integer> optionalInt(String key) throws PluginConfigException {
        Object value = values.get(key);
        if (value == null) {
            return Optional.empty();
        }
        if ((value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte)
                && ((Number) value).longValue() == ((Number) value).intValue()) {
            return Optional.of(((Number) value).intValue());
        }
        throw new PluginConfigException(path + "." + key, "must be a whole number, not " + describe(value));
    }

    /** {@code true} or {@code false}, written as a YAML boolean. */
    public Optional<Boolean> optionalBoolean(String key) throws PluginConfigException {
        Object value = values.get(key);
        if (value == null) {
            return Optional.empty();
        }
        if (value instanceof Boolean b) {
            return Optional.of(b);
        }
        throw new PluginConfigException(path + "." + key, "must be true or false, not " + describe(value));
    }

    /** A duration in the gateway's notation: {@code 500ms}, {@code 30s}, {@code 10m}, {@code 1h}, {@code 7d}. */
    public Optional<Duration> optionalDuration(String key) throws PluginConfigException {
        Object value = values.get(key);
        if (value == null) {
            return Optional.empty();
        }
        Matcher m = value instanceof String s ? DURATION.matcher(s.trim()) : null;
        if (m == null || !m.matches()) {
            throw new PluginConfigException(path + "." + key, "must be a duration such as 500ms, 30s, 10m or 1h");
        }
        long n = Long.parseLong(m.group(1));
        return Optional.of(switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        });
    }

    /** A mapping of strings to strings (such as HTTP headers), in the file's order; empty when absent. */
    public Map<String, String> stringMap(String key) throws PluginConfigException {
        Object value = values.get(key);
        if (value == null) {
            return Map.of();
        }
        if (!(value instanceof Map<?, ?> map)) {
            throw new PluginConfigException(path + "." + key, "must be a mapping, not " + describe(value));
        }
        Map<String, String> result = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getKey() instanceof String k)) {
                throw new PluginConfigException(path + "." + key, "keys must be strings");
            }
            if (!(e.getValue() instanceof String v)) {
                throw new PluginConfigException(path + "." + key + "." + k, "must be a string, not "
                        + (e.getValue() == null ? "null" : describe(e.getValue())));
            }
            result.put(k, v);
        }
        return java.util.Collections.unmodifiableMap(result);
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
