package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.testing.TestGateway;
import io.pgwarden.testing.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;

/** session.max_lifetime as a duration ends every session that long after it opened, keys included. */
class SessionLifetimeTest {

    @Test
    void aFixedMaxLifetimeEndsAKeySessionWith28000() throws Exception {
        LocalPostgres pg = TestPostgres.shared();
        String yaml = TestGateway.yaml(pg, TestGateway.Settings.defaults(pg)) + "session: { max_lifetime: 2s }\n";
        try (TestGateway gateway = TestGateway.start(yaml, pg.password());
             Connection c = gateway.connect(); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT 1")) {
                assertThat(rs.next()).isTrue();
            }
            PSQLException ended = TestGateway.awaitSessionEnd(s);
            assertThat(ended.getSQLState()).isEqualTo("28000");
            assertThat(ended.getMessage()).contains("session.max_lifetime (2s)");
        }
    }
}
