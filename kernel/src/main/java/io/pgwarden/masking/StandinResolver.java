package io.pgwarden.masking;

import io.pgwarden.plugin.api.Masker;
import io.pgwarden.plugin.api.PiiDetector;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** STAND-IN until the maskers branch is merged. */
public final class StandinResolver implements MaskRules.Resolver {
    @Override
    public Masker masker(String name) {
        return switch (name) {
            case "redact" -> (v, t) -> "[redacted]";
            case "null" -> (v, t) -> null;
            case "email" -> (v, t) -> v.contains("@") ? "***" + v.substring(v.lastIndexOf('@')) : "[redacted]";
            case "partial" -> (v, t) -> v.length() <= 8 ? "*".repeat(v.length()) : "*".repeat(v.length() - 4) + v.substring(v.length() - 4);
            default -> null;
        };
    }

    private static final Pattern EMAIL = Pattern.compile("[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}");

    @Override
    public PiiDetector detector(String kind) {
        if (!kind.equals("email")) {
            return null;
        }
        return new PiiDetector() {
            @Override
            public String kind() {
                return "email";
            }

            @Override
            public List<Finding> find(CharSequence text) {
                List<Finding> f = new ArrayList<>();
                Matcher m = EMAIL.matcher(text);
                while (m.find()) {
                    f.add(new Finding(m.start(), m.end()));
                }
                return f;
            }
        };
    }
}
