package io.pgwarden.policy;

import java.util.regex.Pattern;

/**
 * A {@code [schema.]name} pattern of a policy ({@code public.*}, {@code *.secrets},
 * {@code dblink*}), with {@code *} matching any run of characters. Without a schema part the
 * pattern matches the name in every schema. Names are compared exactly as PostgreSQL stores
 * them (unquoted identifiers in lower case).
 *
 * @param everySchema the schema part is {@code *} (or absent)
 */
record NamePattern(String text, boolean everySchema, Pattern schema, Pattern name) {

    static NamePattern of(String text) {
        int dot = text.indexOf('.');
        String schemaPart = dot < 0 ? "*" : text.substring(0, dot);
        String namePart = dot < 0 ? text : text.substring(dot + 1);
        return new NamePattern(text, schemaPart.equals("*"), glob(schemaPart), glob(namePart));
    }

    private static Pattern glob(String glob) {
        StringBuilder regex = new StringBuilder();
        String[] literals = glob.split("\\*", -1);
        for (int i = 0; i < literals.length; i++) {
            if (i > 0) {
                regex.append(".*");
            }
            if (!literals[i].isEmpty()) {
                regex.append(Pattern.quote(literals[i]));
            }
        }
        return Pattern.compile(regex.toString());
    }

    /** Whether {@code schema.name} matches. */
    boolean matches(String schema, String name) {
        return this.name.matcher(name).matches() && this.schema.matcher(schema).matches();
    }

    /** Whether the name matches in every schema it could be in: for allow rules when the schema is unknown. */
    boolean matchesInEverySchema(String name) {
        return everySchema && this.name.matcher(name).matches();
    }

    /** Whether the name matches in some schema: for deny rules when the schema is unknown. */
    boolean matchesInSomeSchema(String name) {
        return this.name.matcher(name).matches();
    }

    @Override
    public String toString() {
        return text;
    }
}
