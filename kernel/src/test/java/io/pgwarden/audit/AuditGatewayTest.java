package io.pgwarden.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.config.ConfigLoader;
import io.pgwarden.config.LoadedConfig;
import io.pgwarden.config.UnenforcedSettings;
import io.pgwarden.server.Gateway;
import io.pgwarden.server.GatewayStartException;
import io.pgwarden.testing.TestGateway;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gateway opens the store, builds the sinks through PF4J and hands the audit log on. */
class AuditGatewayTest {

    @TempDir
    Path dir;

    private LoadedConfig config(String audit) throws Exception {
        String yaml = """
                listen: { host: 127.0.0.1, port: 0, tls: { mode: disable } }
                admin: { port: 0 }
                plugins: { dir: "%s" }
                upstreams: [ { name: app, credential: { user: u, password: dev-only } } ]
                authenticators: [ { type: static-keys, keys: [ { name: a, key_sha256: "%s" } ] } ]
                policies: [ { name: p, match: { names: [a] }, upstream: app } ]
                %s
                """.formatted(TestGateway.PLUGINS, TestGateway.sha256Hex("k"), audit);
        return ConfigLoader.parse(yaml, "gw.yaml", dir);
    }

    @Test
    void theGatewayOpensTheStoreBesideItsConfigurationAndFeedsTheConfiguredSinks() throws Exception {
        LoadedConfig loaded = config("audit: { gateway_id: gw-7, sinks: [ { type: jsonl, path: logs/audit.jsonl, rotate: none } ] }");
        assertThat(UnenforcedSettings.find(loaded.config())).isEmpty();
        try (Gateway gateway = Gateway.start(loaded, name -> null)) {
            AuditLog audit = gateway.audit();
            assertThat(audit).isNotNull();
            AuditFixture.await(audit.sessionStarted(AuditFixture.session("s1", "a")));
            Path file = dir.resolve("logs/audit.jsonl");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!(Files.exists(file) && Files.readString(file).contains("\"session_id\":\"s1\""))
                    && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(Files.readString(file)).contains("\"kind\":\"SESSION_START\"").contains("\"gateway_id\":\"gw-7\"");
        }
        assertThat(dir.resolve("data/pgwarden.mv.db")).as("store.url's default, relative to the configuration").exists();
    }

    @Test
    void aSecondGatewayOnTheSameStoreIsRefused() throws Exception {
        LoadedConfig loaded = config("");
        try (Gateway first = Gateway.start(loaded, name -> null)) {
            assertThatThrownBy(() -> Gateway.start(loaded, name -> null)).isInstanceOf(GatewayStartException.class)
                    .hasMessageContaining("store.url").hasMessageContaining("already open");
            assertThat(first.audit()).isNotNull();
        }
    }

    @Test
    void anUnknownSinkTypeIsAStartupErrorNamingIt() throws Exception {
        assertThatThrownBy(() -> Gateway.start(config("audit: { sinks: [ { type: kafka } ] }"), name -> null))
                .isInstanceOf(GatewayStartException.class)
                .hasMessageStartingWith("audit.sinks[0].type: no plugin provides audit sink type \"kafka\" (available: jsonl, syslog, webhook;");
        assertThat(dir.resolve("data/pgwarden.mv.db")).as("nothing opened before the sinks were built").doesNotExist();
    }

    @Test
    void aBadSinkEntryIsAStartupErrorNamingTheKey() throws Exception {
        assertThatThrownBy(() -> Gateway.start(config("audit: { sinks: [ { type: jsonl } ] }"), name -> null))
                .hasMessage("audit.sinks[0].path: is required");
        assertThatThrownBy(() -> Gateway.checkPlugins(config("audit: { sinks: [ { type: syslog, host: h, protocol: sctp } ] }")))
                .hasMessage("audit.sinks[0].protocol: must be udp or tcp");
    }

    @Test
    void aStoreThisVersionCannotUseIsRefused() throws Exception {
        assertThat(UnenforcedSettings.find(config("store: { url: \"jdbc:postgresql://db/pgwarden\" }").config()))
                .containsExactly("store.url: a PostgreSQL store shared by several gateways is not available in this version; "
                        + "use the embedded jdbc:h2:file:PATH");
        assertThatThrownBy(() -> Gateway.start(config("store: { url: \"jdbc:h2:mem:x\" }"), name -> null))
                .hasMessageContaining("store.url").hasMessageContaining("in-memory");
        assertThatThrownBy(() -> Gateway.checkPlugins(config("store: { url: \"jdbc:h2:mem:x\" }")))
                .hasMessageContaining("in-memory");
    }

    @Test
    void badAuditKeysAreConfigurationErrors() {
        assertThatThrownBy(() -> config("audit: { redact_literal: true }")).hasMessageContaining("audit.redact_literal: unknown key");
        assertThatThrownBy(() -> config("audit: { gateway_id: \"gw 1\" }")).hasMessageContaining("audit.gateway_id: must be");
        assertThatThrownBy(() -> config("audit: { fsync: maybe }")).hasMessageContaining("audit.fsync");
    }

    @Test
    void auditSettingsHaveSafeDefaults() throws Exception {
        var audit = config("").config().audit();
        assertThat(audit.sinks()).isEmpty();
        assertThat(audit.redactLiterals()).isFalse();
        assertThat(audit.fsync()).isTrue();
        assertThat(audit.gatewayId()).isNull();
        assertThat(config("audit: { redact_literals: true, fsync: false }").config().audit())
                .extracting(a -> List.of(a.redactLiterals(), a.fsync())).isEqualTo(List.of(true, false));
    }
}
