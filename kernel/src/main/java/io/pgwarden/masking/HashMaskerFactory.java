package io.pgwarden.masking;

import io.pgwarden.plugin.api.Masker;
import io.pgwarden.plugin.api.MaskerFactory;
import io.pgwarden.plugin.api.PluginConfig;
import io.pgwarden.plugin.api.PluginConfigException;
import io.pgwarden.plugin.api.PluginContext;
import io.pgwarden.plugin.api.ValueType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Set;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * {@code type: hash}: a keyed HMAC-SHA256 of the value's text form, so equal values mask
 * equally (joins, {@code GROUP BY}, {@code COUNT(DISTINCT …)} still work on masked columns)
 * while nobody without the key can compute or reverse one. A plain hash would not do: the
 * hash of every phone number or SSN can be tabulated.
 *
 * <ul>
 *   <li>text and JSON: the first {@code length} hexadecimal digits of the MAC (default 16,
 *       that is 64 bits; 8 to 64);</li>
 *   <li>numbers: a non-negative integer from the MAC's first bytes, of 15 bits for int2,
 *       24 bits for float4 (exact in a float4) and 31 bits for every other number type, so
 *       an int4 key still joins with the int8 column that refers to it;</li>
 *   <li>uuid: a UUID made of the MAC's first 16 bytes (version 8, "custom"), so UUID keys
 *       join too;</li>
 *   <li>other types: NULL.</li>
 * </ul>
 *
 * <p>The key is required: {@code key_env: VARIABLE} or {@code key_file: PATH} (the file's
 * bytes, a trailing newline removed), at least 16 bytes. Changing the key changes every
 * masked value.
 */
public final class HashMaskerFactory implements MaskerFactory {
    public static final String TYPE = "hash";
    static final int MIN_KEY_BYTES = 16;
    static final int DEFAULT_LENGTH = 16;
    private static final String ALGORITHM = "HmacSHA256";

    private final Function<String, String> environment;

    /** @param environment where {@code key_env} is looked up ({@code System::getenv} in production) */
    public HashMaskerFactory(Function<String, String> environment) {
        this.environment = environment;
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Masker create(PluginConfig config, PluginContext context) throws PluginConfigException {
        config.requireOnlyKeys(Set.of("name", "type", "key_env", "key_file", "length"));
        byte[] key = key(config, context);
        int length = config.optionalInt("length").orElse(DEFAULT_LENGTH);
        if (length < 8 || length > 64) {
            throw new PluginConfigException(config.path() + ".length", "must be between 8 and 64 hexadecimal digits");
        }
        return new Hash(new SecretKeySpec(key, ALGORITHM), length);
    }

    private byte[] key(PluginConfig config, PluginContext context) throws PluginConfigException {
        var env = config.optionalString("key_env");
        var file = config.optionalString("key_file");
        if (env.isPresent() == file.isPresent()) {
            throw new PluginConfigException(config.path(), "give the HMAC key as exactly one of key_env (an environment "
                    + "variable) or key_file (a file); a hash without a secret key can be reversed by trying every value");
        }
        byte[] key;
        String at;
        if (env.isPresent()) {
            at = config.path() + ".key_env";
            String value = environment.apply(env.get());
            if (value == null || value.isEmpty()) {
                throw new PluginConfigException(at, "environment variable " + env.get() + " is not set");
            }
            key = value.getBytes(StandardCharsets.UTF_8);
        } else {
            at = config.path() + ".key_file";
            Path path = context.baseDirectory().resolve(file.get()).normalize();
            try {
                key = withoutTrailingNewline(Files.readAllBytes(path));
            } catch (IOException e) {
                throw new PluginConfigException(at, "cannot read " + path + ": " + e.getClass().getSimpleName());
            }
        }
        if (key.length < MIN_KEY_BYTES) {
            throw new PluginConfigException(at, "the key has " + key.length + " bytes; at least " + MIN_KEY_BYTES
                    + " are required (for example: openssl rand -base64 32)");
        }
        return key;
    }

    private static byte[] withoutTrailingNewline(byte[] bytes) {
        int end = bytes.length;
        while (end > 0 && (bytes[end - 1] == '\n' || bytes[end - 1] == '\r')) {
            end--;
        }
        return end == bytes.length ? bytes : Arrays.copyOf(bytes, end);
    }

    static final class Hash implements Masker {
        private static final HexFormat HEX = HexFormat.of();
        private final int length;
        /** A Mac is not thread-safe and costly to make; each event loop thread keeps its own. */
        private final ThreadLocal<Mac> mac;

        Hash(SecretKeySpec key, int length) {
            this.length = length;
            this.mac = ThreadLocal.withInitial(() -> {
                try {
                    Mac m = Mac.getInstance(ALGORITHM);
                    m.init(key);
                    return m;
                } catch (GeneralSecurityException e) {
                    throw new IllegalStateException("HMAC-SHA256 is not available", e);
                }
            });
            mac.get(); // fail at start-up, not on the first row
        }

        @Override
        public String mask(String value, ValueType type) {
            byte[] digest = mac.get().doFinal(value.getBytes(StandardCharsets.UTF_8));
            return switch (type.kind()) {
                case TEXT -> hex(digest);
                case JSON -> '"' + hex(digest) + '"';
                case NUMBER -> Long.toString(number(digest, type));
                case OTHER -> type.name().equals("uuid") ? uuid(digest) : null;
            };
        }

        private String hex(byte[] digest) {
            String hex = HEX.formatHex(digest, 0, (length + 1) / 2);
            return hex.length() == length ? hex : hex.substring(0, length);
        }

        @Override
        public boolean validFor(String masked, ValueType type) {
            return type.name().equals("uuid");
        }

        private static long number(byte[] digest, ValueType type) {
            int bits = switch (type.oid()) {
                case ValueTypes.INT2 -> 15;
                case ValueTypes.FLOAT4 -> 24;
                default -> 31;
            };
            long v = 0;
            for (int i = 0; i < 8; i++) {
                v = (v << 8) | (digest[i] & 0xFF);
            }
            return v >>> (64 - bits);
        }

        private static String uuid(byte[] digest) {
            byte[] b = Arrays.copyOf(digest, 16);
            b[6] = (byte) ((b[6] & 0x0F) | 0x80); // version 8: custom (RFC 9562)
            b[8] = (byte) ((b[8] & 0x3F) | 0x80); // variant 10
            String hex = HEX.formatHex(b);
            return hex.substring(0, 8) + "-" + hex.substring(8, 12) + "-" + hex.substring(12, 16) + "-"
                    + hex.substring(16, 20) + "-" + hex.substring(20);
        }

        @Override
        public String toString() {
            return "Hash[length=" + length + "]"; // never the key
        }
    }
}
