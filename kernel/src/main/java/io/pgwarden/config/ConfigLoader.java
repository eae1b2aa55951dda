package io.pgwarden.config;

import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.InvalidNullException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Reads the YAML configuration into {@link GatewayConfig}: unknown keys and ill-typed
 * values are errors that name the key's path and line; then {@link ConfigValidator} checks
 * what spans several keys.
 */
public final class ConfigLoader {

    private ConfigLoader() {
    }

    private static final YAMLMapper MAPPER = YAMLMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            // A key given twice in one mapping (a second "policies:") would otherwise silently
            // replace the first; FAIL_ON_READING_DUP_TREE_KEY covers trees only, not records.
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            // A null inside a list or mapping (`upstreams: [~]`) is an error with a path, not
            // a hole the records would trip over.
            .defaultSetterInfo(JsonSetter.Value.forContentNulls(Nulls.FAIL))
            .addModule(new SimpleModule("pgwarden-config")
                    .addDeserializer(Duration.class, new ScalarDeserializer<>(Durations::parse, "a duration such as 30s, 10m or 1h"))
                    // Every Long in the configuration is a byte size (limits.max_message_size).
                    .addDeserializer(Long.class, new ScalarDeserializer<>(ByteSizes::parse, "a size such as 16MiB")))
            .build();

    /** Reads, resolves relative paths against the file's folder, and validates. */
    public static LoadedConfig load(Path file) throws ConfigException {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": no such file");
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot be read: " + e.getMessage());
        }
        Path base = file.toAbsolutePath().getParent();
        return parse(text, file.toString(), base);
    }

    public static LoadedConfig parse(String yaml, String sourceName, Path baseDir) throws ConfigException {
        GatewayConfig config;
        try (JsonParser parser = MAPPER.createParser(yaml)) {
            // Jackson reports an empty document as "No content to map"; say what it means.
            config = parser.nextToken() == null ? null : MAPPER.readValue(parser, GatewayConfig.class);
        } catch (JsonMappingException e) {
            throw new ConfigException(sourceName + describe(e, yaml));
        } catch (JsonProcessingException e) {
            throw new ConfigException(sourceName + at(e.getLocation()) + ": not valid YAML: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ConfigException(sourceName + ": cannot be read: " + e.getMessage());
        }
        if (config == null) {
            throw new ConfigException(sourceName + ": the file is empty");
        }
        List<String> problems = ConfigValidator.validate(config, baseDir);
        if (!problems.isEmpty()) {
            throw new ConfigException(problems.stream().map(p -> sourceName + ": " + p).toList());
        }
        return new LoadedConfig(config, baseDir);
    }

    private static String describe(JsonMappingException e, String yaml) {
        String path = path(e.getPath());
        int line = path.isEmpty() ? -1 : lineOf(yaml, path);
        String where = (line > 0 ? ":" + line : at(e.getLocation())) + (path.isEmpty() ? "" : ": " + path);
        if (e instanceof UnrecognizedPropertyException u) {
            String known = u.getKnownPropertyIds() == null ? "" : u.getKnownPropertyIds().stream()
                    .map(Object::toString).collect(Collectors.toCollection(TreeSet::new)).toString();
            return where + ": unknown key" + (known.isEmpty() ? "" : " (known keys: " + known.substring(1, known.length() - 1) + ")");
        }
        if (e instanceof InvalidNullException) {
            return where + ": a value is required here (null or ~ is not allowed)";
        }
        if (e instanceof InvalidFormatException f && f.getTargetType() != null && f.getTargetType().isEnum()) {
            String allowed = Arrays.stream(f.getTargetType().getEnumConstants())
                    .map(c -> c.toString().toLowerCase(java.util.Locale.ROOT).replace('_', '-'))
                    .collect(Collectors.joining(", "));
            return where + ": \"" + f.getValue() + "\" is not one of " + allowed;
        }
        Throwable cause = e.getCause();
        if (cause instanceof IllegalArgumentException iae) {
            return where + ": " + iae.getMessage();
        }
        if (e instanceof MismatchedInputException m && m.getTargetType() != null) {
            return where + ": " + expected(m.getTargetType());
        }
        return where + ": " + simplify(e.getOriginalMessage());
    }

    /** What the YAML should hold where a value of {@code type} is read, in the operator's terms. */
    private static String expected(Class<?> type) {
        if (java.util.Collection.class.isAssignableFrom(type) || type.isArray()) {
            return "a list is expected here";
        }
        if (type == String.class || type == java.nio.file.Path.class) {
            return "a single text value is expected here";
        }
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
            return "a whole number is expected here";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false is expected here";
        }
        if (type == Duration.class) {
            return "a duration such as 30s, 10m or 1h is expected here";
        }
        if (type == Object.class) {
            return "a value is expected here";
        }
        return "a mapping (key: value pairs) is expected here";
    }

    /** Jackson's messages name Java types; an operator needs the YAML meaning. */
    private static String simplify(String message) {
        if (message == null) {
            return "invalid value";
        }
        return message.replaceAll("`[a-z]+(\\.[a-zA-Z_$0-9]+)+`", "a value").replaceAll("io\\.pgwarden\\.[\\w.$]+", "value");
    }

    private static String at(JsonLocation location) {
        return location == null || location.getLineNr() < 1 ? "" : ":" + location.getLineNr();
    }

    /**
     * The line where the key (or list item) at {@code path} starts, or -1. Jackson's own
     * location is where the parser stood when it failed, which for records (buffered
     * properties) is the end of the enclosing mapping, often the end of the file.
     */
    static int lineOf(String yaml, String path) {
        try (JsonParser p = MAPPER.createParser(yaml)) {
            JsonToken token;
            while ((token = p.nextToken()) != null) {
                JsonStreamContext ctx = p.getParsingContext();
                if (token == JsonToken.START_OBJECT || token == JsonToken.START_ARRAY) {
                    ctx = ctx.getParent(); // the container just opened is not where it stands
                }
                String here = null;
                if (token == JsonToken.FIELD_NAME) {
                    here = contextPath(ctx);
                } else if (ctx.inArray() && token != JsonToken.END_ARRAY && token != JsonToken.END_OBJECT) {
                    here = contextPath(ctx);
                }
                if (path.equals(here)) {
                    return p.currentTokenLocation().getLineNr();
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }

    private static String contextPath(JsonStreamContext ctx) {
        List<String> parts = new java.util.ArrayList<>();
        for (JsonStreamContext c = ctx; c != null && !c.inRoot(); c = c.getParent()) {
            parts.addFirst(c.inArray() ? "[" + c.getCurrentIndex() + "]" : c.getCurrentName());
        }
        StringBuilder sb = new StringBuilder();
        for (String part : parts) {
            if (!sb.isEmpty() && !part.startsWith("[")) {
                sb.append('.');
            }
            sb.append(part);
        }
        return sb.toString();
    }

    static String path(List<JsonMappingException.Reference> refs) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference ref : refs) {
            if (ref.getIndex() >= 0) {
                sb.append('[').append(ref.getIndex()).append(']');
            } else if (ref.getFieldName() != null) {
                if (!sb.isEmpty()) {
                    sb.append('.');
                }
                sb.append(ref.getFieldName());
            }
        }
        return sb.toString();
    }

    /**
     * Reads a scalar through {@code parse}; a parse failure becomes a mapping error whose
     * cause carries the message, which {@link #describe} shows with the key's path.
     */
    private static final class ScalarDeserializer<T> extends JsonDeserializer<T> {
        private final java.util.function.Function<String, T> parse;
        private final String expected;

        ScalarDeserializer(java.util.function.Function<String, T> parse, String expected) {
            this.parse = parse;
            this.expected = expected;
        }

        @Override
        public T deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            try {
                if (!p.currentToken().isScalarValue()) {
                    throw new IllegalArgumentException("must be " + expected);
                }
                return parse.apply(p.getText());
            } catch (IllegalArgumentException e) {
                throw JsonMappingException.from(p, e.getMessage(), e);
            }
        }
    }
}
