package io.pgwarden.config;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses sizes such as {@code 8192}, {@code 64KiB}, {@code 16MiB}, {@code 1GiB} (binary units; kB/MB/GB are read the same way, as PostgreSQL does). */
final class ByteSizes {
    private static final Pattern SIZE = Pattern.compile("(\\d{1,12})\\s*(|b|kib|kb|mib|mb|gib|gb)");

    private ByteSizes() {
    }

    static long parse(String text) {
        Matcher m = SIZE.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("\"" + text + "\" is not a size (use bytes or a unit: 64KiB, 16MiB, 1GiB)");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "kib", "kb" -> n << 10;
            case "mib", "mb" -> n << 20;
            case "gib", "gb" -> n << 30;
            default -> n;
        };
    }
}
