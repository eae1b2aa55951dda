package io.pgwarden.jit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class RoleStatementsTest {

    @Test
    void grantRoleNamesAreQuotedSoThatNoneCanEndTheStatement() {
        String sql = RoleStatements.create("pgw_0123456789abcdef", "SCRAM-SHA-256$1:c2FsdA==$a:b",
                Instant.parse("2026-11-26T10:00:00.123Z"), List.of("analytics_ro", "x\" SUPERUSER --", "O'Brien"));
        assertThat(sql).isEqualTo("CREATE ROLE \"pgw_0123456789abcdef\" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                + "NOBYPASSRLS INHERIT CONNECTION LIMIT 1 PASSWORD 'SCRAM-SHA-256$1:c2FsdA==$a:b' VALID UNTIL '2026-11-26T10:00:00Z' "
                + "IN ROLE \"analytics_ro\", \"x\"\" SUPERUSER --\", \"O'Brien\"");
    }

    @Test
    void literalsDoubleTheirQuotesAndRefuseNul() {
        assertThat(RoleStatements.literal("it's")).isEqualTo("'it''s'");
        assertThatThrownBy(() -> RoleStatements.literal("a\0b")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RoleStatements.identifier("a\0b")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theSweepMatchesOnlyThePrefixFollowedBySixteenHexDigits() {
        assertThat(RoleStatements.expiredWithPrefix("pgw_")).isEqualTo("SELECT rolname FROM pg_catalog.pg_roles WHERE rolname ~ "
                + "'^pgw_[0-9a-f]{16}$' AND rolvaliduntil < pg_catalog.now()");
    }
}
