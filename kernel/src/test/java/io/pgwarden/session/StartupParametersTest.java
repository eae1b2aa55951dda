package io.pgwarden.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StartupParametersTest {

    @Test
    void roleAndSessionAuthorizationAreForbiddenInAnyCase() {
        assertThat(StartupParameters.forbidden(Map.of("user", "a", "role", "postgres"))).contains("role");
        assertThat(StartupParameters.forbidden(Map.of("ROLE", "postgres"))).contains("ROLE");
        assertThat(StartupParameters.forbidden(Map.of("session_authorization", "postgres"))).contains("session_authorization");
    }

    @Test
    void roleInsideOptionsIsForbidden() {
        for (String options : new String[] {"-c role=postgres", "-crole=postgres", "-c search_path=x -c ROLE=admin",
                "--role=postgres", "-c session_authorization=postgres", "-c  role =x"}) {
            assertThat(StartupParameters.forbidden(Map.of("options", options))).as(options).contains("options");
        }
    }

    /**
     * PostgreSQL reads options with backslash escapes and getopt, so these all set role
     * (checked against PostgreSQL 15: current_user became the named role); the earlier
     * regular expression let them through.
     */
    @Test
    void roleHiddenByEscapesBundledSwitchesOrDashesInOptionsIsForbidden_regression() {
        for (String options : new String[] {"-c rol\\e=postgres", "-c r\\ole=postgres", "-Ecrole=postgres",
                "-E -c role=postgres", "-c\trole=postgres", "--ROLE=postgres", "-c session-authorization=postgres",
                "-e --session-authorization=postgres"}) {
            assertThat(StartupParameters.forbidden(Map.of("options", options))).as(options).contains("options");
        }
    }

    @Test
    void settingsInOptionsAreReadAsPostgresReadsThem() {
        assertThat(StartupParameters.settingsInOptions("-c search_path=a\\ b -cwork_mem=1MB --statement-timeout=5s -E"))
                .containsExactly("search_path", "work_mem", "statement_timeout");
        // The value of another switch is not a setting name.
        assertThat(StartupParameters.settingsInOptions("-d role=1")).isEmpty();
    }

    @Test
    void harmlessOptionsAndParametersPass() {
        assertThat(StartupParameters.forbidden(Map.of("user", "a", "database", "app", "application_name", "role=x",
                "options", "-c search_path=app -c statement_timeout=5s", "search_path", "public"))).isEmpty();
        // A setting whose name merely contains "role" is not the role setting.
        assertThat(StartupParameters.forbidden(Map.of("options", "-c my.role_name=1"))).isEmpty();
    }

    @Test
    void userDatabaseReplicationAndProtocolExtensionsAreNotForwarded() {
        Map<String, String> client = new LinkedHashMap<>();
        client.put("user", "agent");
        client.put("database", "app");
        client.put("replication", "false");
        client.put("_pq_.command_compression", "on");
        client.put("application_name", "loader");
        client.put("options", "-c search_path=x");
        client.put("client_encoding", "UTF8");
        assertThat(StartupParameters.forUpstream(client)).containsExactly(
                Map.entry("application_name", "loader"), Map.entry("options", "-c search_path=x"),
                Map.entry("client_encoding", "UTF8"));
    }

    @Test
    void replicationIsRecognisedByItsTrueSpellings() {
        assertThat(StartupParameters.isReplication(Map.of("replication", "database"))).isTrue();
        assertThat(StartupParameters.isReplication(Map.of("replication", "true"))).isTrue();
        assertThat(StartupParameters.isReplication(Map.of("replication", "1"))).isTrue();
        assertThat(StartupParameters.isReplication(Map.of("replication", "OFF"))).isFalse();
        assertThat(StartupParameters.isReplication(Map.of())).isFalse();
    }
}
