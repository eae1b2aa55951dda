package io.pgwarden.jit;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The SQL the gateway runs for just-in-time roles. Every name is quoted as an identifier and
 * every value as a literal here, whatever the configuration or the generator produced, so
 * that nothing can be read as SQL (the role names are generated and the prefix is checked,
 * but the grant roles are whatever the operator wrote).
 */
final class RoleStatements {
    private RoleStatements() {
    }

    /** {@code "name"}, with embedded double quotes doubled (PostgreSQL's quote_ident). */
    static String identifier(String name) {
        if (name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("a role name cannot contain NUL");
        }
        return '"' + name.replace("\"", "\"\"") + '"';
    }

    /**
     * {@code 'text'}, with single quotes doubled. Safe under standard_conforming_strings,
     * which the gateway's control session sets.
     */
    static String literal(String text) {
        if (text.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("a literal cannot contain NUL");
        }
        return '\'' + text.replace("'", "''") + '\'';
    }

    /**
     * A login role that only this session's connection may use (CONNECTION LIMIT 1), that
     * can log in until {@code validUntil}, and that inherits the grant roles' privileges and
     * nothing else.
     */
    static String create(String role, String scramVerifier, Instant validUntil, List<String> grantRoles) {
        return "CREATE ROLE " + identifier(role) + " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT"
                + " CONNECTION LIMIT 1 PASSWORD " + literal(scramVerifier)
                + " VALID UNTIL " + literal(validUntil.truncatedTo(ChronoUnit.SECONDS).toString())
                + " IN ROLE " + grantRoles.stream().map(RoleStatements::identifier).collect(Collectors.joining(", "));
    }

    /** Ends the role's backends, waiting up to 5 s for each to exit (PostgreSQL 14+). */
    static String terminateBackends(String role) {
        return "SELECT pg_catalog.pg_terminate_backend(pid, 5000) FROM pg_catalog.pg_stat_activity WHERE usename = "
                + literal(role);
    }

    static String drop(String role) {
        return "DROP ROLE IF EXISTS " + identifier(role);
    }

    /**
     * Roles that look like this gateway's ({@code prefix} then 16 hex digits) and can no
     * longer log in: left behind by a gateway that crashed, this one or another.
     */
    static String expiredWithPrefix(String prefix) {
        return "SELECT rolname FROM pg_catalog.pg_roles WHERE rolname ~ " + literal("^" + prefix + "[0-9a-f]{16}$")
                + " AND rolvaliduntil < pg_catalog.now()";
    }
}
