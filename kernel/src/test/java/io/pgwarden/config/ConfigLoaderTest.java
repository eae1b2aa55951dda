package io.pgwarden.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    /** The smallest valid configuration; each test changes one thing. */
    private static final String VALID = """
            upstreams:
              - name: app
                credential: { user: gw, password_env: APP_PW }
            authenticators:
              - type: static-keys
            policies:
              - name: agents
                match: { groups: [agents] }
                upstream: app
            """;

    @TempDir
    Path dir;

    private static LoadedConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, "gw.yaml", Path.of("/nonexistent-base"));
    }

    private static ConfigException failure(String yaml) {
        try {
            parse(yaml);
        } catch (ConfigException e) {
            return e;
        }
        throw new AssertionError("expected the configuration to be refused:\n" + yaml);
    }

    @Test
    void aPolicysGrantRolesNeedJitOnItsUpstream() throws Exception {
        String withGrant = VALID.replace("upstream: app\n", "upstream: app\n    grant_roles: [writer]\n");
        assertThat(failure(withGrant).problems()).contains("gw.yaml: policies[0].grant_roles: upstream \"app\" does not have "
                + "jit.enabled: true; sessions there log in as the gateway's credential, which no policy can narrow");
        String jit = withGrant.replace("credential: { user: gw, password_env: APP_PW }",
                "credential: { user: gw, password_ref: \"vault:gw\" }\n    jit: { enabled: true, grant_roles: [reader], role_ttl: 0s }");
        assertThat(failure(jit).problems()).containsExactly("gw.yaml: upstreams[0].jit.role_ttl: must be longer than zero");
        assertThat(parse(jit.replace("role_ttl: 0s", "role_ttl: 15m")).config().policies().get(0).grantRoles()).containsExactly("writer");
    }

    @Test
    void vaultKeyEnvMustNameAnEnvironmentVariable() {
        assertThat(failure(VALID + "vault: { key_env: \"not a name\" }\n").problems())
                .containsExactly("gw.yaml: vault.key_env: \"not a name\" is not an environment variable name");
    }

    @Test
    void sessionMaxLifetimeIsTokenOrADuration() throws Exception {
        assertThat(parse(VALID).config().session().fixedLifetime()).isEmpty();
        assertThat(parse(VALID + "session: { max_lifetime: 8h }\n").config().session().fixedLifetime())
                .contains(java.time.Duration.ofHours(8));
        assertThat(failure(VALID + "session: { max_lifetime: forever }\n").problems())
                .singleElement().asString().contains("session.max_lifetime: must be \"token\" or a duration");
    }

    @Test
    void recordingKeysHaveDefaultsAndEachBadValueNamesItsKey() throws Exception {
        var recording = parse(VALID + "recording: { enabled: true }\n").config().recording();
        assertThat(recording.maxRowsPerResult()).isEqualTo(100);
        assertThat(recording.retention()).isEqualTo(java.time.Duration.ofDays(30));
        assertThat(recording.buffer()).isEqualTo(64L << 20);
        assertThat(recording.onOverflow()).isEqualTo("drop");
        assertThat(failure(VALID + "recording: { enabled: true, max_rows_per_result: 2000000, retention: 0s, buffer: 1KiB, "
                + "on_overflow: wait }\n").problems()).containsExactlyInAnyOrder(
                "gw.yaml: recording.max_rows_per_result: must be between 0 and 1000000",
                "gw.yaml: recording.retention: must be longer than zero (such as 30d)",
                "gw.yaml: recording.buffer: must be between 1MiB and 1GiB",
                "gw.yaml: recording.on_overflow: must be drop or block, not \"wait\"");
    }

    @Test
    void aNullInsideAListIsAnErrorWithItsPathNotAnInternalException() {
        // Regression: `upstreams: [~]` and friends reached the operator as
        // "Cannot construct instance of GatewayConfig, problem: NullPointerException".
        assertThat(failure("upstreams: [null]\n").problems())
                .containsExactly("gw.yaml:1: upstreams[0]: a value is required here (null or ~ is not allowed)");
        assertThat(failure(VALID + "audit: { sinks: [ ~ ] }\n").problems())
                .singleElement().asString().endsWith("audit.sinks[0]: a value is required here (null or ~ is not allowed)");
        assertThat(failure(VALID.replace("match: { groups: [agents] }", "match: { groups: [agents, null] }")).problems())
                .singleElement().asString().contains("policies[0].match.groups[1]: a value is required here");
    }

    @Test
    void minimalConfigurationLoadsWithDefaults() throws Exception {
        GatewayConfig c = parse(VALID).config();
        assertThat(c.listen().host()).isEqualTo("127.0.0.1");
        assertThat(c.listen().port()).isEqualTo(6432);
        assertThat(c.listen().tls().mode()).isEqualTo(GatewayConfig.ClientTlsMode.PREFER);
        assertThat(c.admin().port()).isEqualTo(8080);
        assertThat(c.plugins().dir()).isNull();
        var u = c.upstreams().getFirst();
        assertThat(u.host()).isEqualTo("127.0.0.1");
        assertThat(u.port()).isEqualTo(5432);
        assertThat(u.database()).as("defaults to the upstream's name").isEqualTo("app");
        assertThat(u.tls()).isEqualTo(GatewayConfig.UpstreamTlsMode.PREFER);
        assertThat(u.connectTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(u.jit().enabled()).isFalse();
        var p = c.policies().getFirst();
        assertThat(p.allow().commands()).containsExactly("ALL");
        assertThat(p.allow().relations()).containsExactly("*");
        assertThat(p.deny().relations()).isEmpty();
        var l = c.limits();
        assertThat(l.maxMessageSize()).isEqualTo(64L << 20);
        assertThat(l.startupTimeout()).isEqualTo(Duration.ofSeconds(15));
        assertThat(l.idleTimeout()).isEqualTo(Duration.ofHours(1));
        assertThat(l.shutdownGrace()).isEqualTo(Duration.ofSeconds(30));
        assertThat(l.authFailuresPerMinute()).isEqualTo(10);
        assertThat(l.maxConnections()).isEqualTo(2000);
        assertThat(c.recording().enabled()).isFalse();
        assertThat(UnenforcedSettings.find(c)).isEmpty();
    }

    @Test
    void limitsParseDurationsAndSizes() throws Exception {
        var l = parse(VALID + "limits: { max_message_size: 16KiB, startup_timeout: 500ms, idle_timeout: 0s, shutdown_grace: 2m }\n")
                .config().limits();
        assertThat(l.maxMessageSize()).isEqualTo(16384);
        assertThat(l.startupTimeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(l.idleTimeout()).isZero();
        assertThat(l.shutdownGrace()).isEqualTo(Duration.ofMinutes(2));
        assertThat(parse(VALID + "limits: { max_message_size: 1MB }\n").config().limits().maxMessageSize()).isEqualTo(1L << 20);
    }

    @Test
    void unknownKeyNamesItsPathAndLine() {
        ConfigException e = failure(VALID + """
                    allow: { comands: [SELECT] }
                """);
        assertThat(e.getMessage())
                .startsWith("gw.yaml:10")
                .contains("policies[0].allow.comands: unknown key")
                .contains("commands");
    }

    @Test
    void unknownTopLevelKeyNamesItsOwnLineNotTheEndOfTheFile_regression() {
        // Records buffer their properties, so Jackson's location was the end of the document.
        assertThat(failure("listn: { port: 1 }\n" + VALID).getMessage()).startsWith("gw.yaml:1: listn: unknown key");
        assertThat(failure("store: {}\nlistn:\n  port: 1\n" + VALID).getMessage()).startsWith("gw.yaml:2: listn: unknown key");
        String nested = VALID.replace("    upstream: app\n", "    upstream: app\n    alow: {}\n") + "limits: {}\n";
        assertThat(failure(nested).getMessage()).startsWith("gw.yaml:10: policies[0].alow: unknown key");
    }

    @Test
    void badValueInAListItemNamesTheItemsLine() {
        String yaml = VALID.replace("policies:\n", "policies:\n  - { name: first, match: { names: [x] }, upstream: app, bogus: 1 }\n");
        assertThat(failure(yaml).getMessage()).startsWith("gw.yaml:7: policies[0].bogus: unknown key");
    }

    @Test
    void duplicateYamlKeyIsRefusedRatherThanSilentlyOverwritten_regression() {
        // A second "policies:" replaced the first without a word.
        ConfigException e = failure(VALID + """
                policies:
                  - { name: everyone, match: { groups: [nobody] }, upstream: app }
                """);
        assertThat(e.getMessage()).contains("gw.yaml:10").contains("policies").containsIgnoringCase("duplicate");
        assertThat(failure(VALID + "store: { url: a, url: b }\n").getMessage()).containsIgnoringCase("duplicate").contains("url");
    }

    @Test
    void emptyFileIsRefusedAsEmpty_regression() {
        assertThat(failure("").getMessage()).isEqualTo("gw.yaml: the file is empty");
        assertThat(failure("# only a comment\n").getMessage()).isEqualTo("gw.yaml: the file is empty");
    }

    @Test
    void badEnumValueListsTheAllowedValues() {
        assertThat(failure(VALID + "listen: { tls: { mode: maybe } }\n").getMessage())
                .contains("listen.tls.mode")
                .contains("\"maybe\" is not one of disable, prefer, require");
        String upstream = VALID.replace("name: app\n", "name: app\n    tls: verify_full\n");
        assertThat(failure(upstream).getMessage())
                .contains("upstreams[0].tls")
                .contains("disable, prefer, require, verify-full");
    }

    @Test
    void badDurationIsRefusedWithTheKey() {
        assertThat(failure(VALID + "limits: { idle_timeout: 5 minutes }\n").getMessage())
                .contains("limits.idle_timeout").contains("\"5 minutes\" is not a duration");
        assertThat(failure(VALID + "limits: { startup_timeout: 10 }\n").getMessage())
                .contains("limits.startup_timeout").contains("not a duration");
        assertThat(failure(VALID + "limits: { startup_timeout: 0s }\n").getMessage())
                .contains("limits.startup_timeout: must be longer than zero");
    }

    @Test
    void badSizeIsRefusedWithTheKey() {
        assertThat(failure(VALID + "limits: { max_message_size: lots }\n").getMessage())
                .contains("limits.max_message_size").contains("\"lots\" is not a size");
        assertThat(failure(VALID + "limits: { max_message_size: 1KiB }\n").getMessage())
                .contains("limits.max_message_size: must be between 8KiB and 1GiB");
        assertThat(failure(VALID + "limits: { max_message_size: 2GiB }\n").getMessage())
                .contains("limits.max_message_size: must be between 8KiB and 1GiB");
    }

    @Test
    void policyNamingAMissingUpstreamIsRefused() {
        assertThat(failure(VALID.replace("upstream: app", "upstream: ap")).problems())
                .contains("gw.yaml: policies[0].upstream: no upstream is named \"ap\"");
    }

    @Test
    void maskersNeedATypeAndDistinctNames() throws Exception {
        assertThat(parse(VALID).config().masking().maskers()).isEmpty();
        assertThat(parse(VALID + "masking: { maskers: [ { name: last4, type: partial, keep: 4 } ] }\n").config().masking().maskers())
                .containsExactly(java.util.Map.of("name", "last4", "type", "partial", "keep", 4));
        assertThat(failure(VALID + "masking: { maskers: [ { name: a } ] }\n").problems())
                .containsExactly("gw.yaml: masking.maskers[0].type: is required");
        assertThat(failure(VALID + "masking: { maskers: [ { type: partial }, { type: partial, keep: 2 } ] }\n").problems())
                .containsExactly("gw.yaml: masking.maskers[1].type: \"partial\" names another entry too; give each a distinct name");
        assertThat(failure(VALID + "masking: { makers: [] }\n").problems()).singleElement().asString()
                .contains("masking.makers: unknown key");
    }

    @Test
    void duplicateNamesAreRefused() {
        String yaml = """
                upstreams:
                  - { name: app, credential: { user: gw, password_env: A } }
                  - { name: app, credential: { user: gw, password_env: B } }
                authenticators:
                  - type: static-keys
                  - type: static-keys
                policies:
                  - { name: p, match: { groups: [a] }, upstream: app }
                  - { name: p, match: { groups: [b] }, upstream: app }
                """;
        assertThat(failure(yaml).problems()).contains(
                "gw.yaml: upstreams[1].name: \"app\" is used by another upstream",
                "gw.yaml: authenticators[1].type: \"static-keys\" names another entry too; give each a distinct name",
                "gw.yaml: policies[1].name: \"p\" is used by another policy");
    }

    @Test
    void credentialNeedsExactlyOnePasswordSource() {
        assertThat(failure(VALID.replace("password_env: APP_PW", "password_env: APP_PW, password: x")).problems())
                .contains("gw.yaml: upstreams[0].credential: give exactly one of password_ref, password_env, password (found 2)");
        assertThat(failure(VALID.replace(", password_env: APP_PW", "")).problems())
                .contains("gw.yaml: upstreams[0].credential: give exactly one of password_ref, password_env, password (found 0)");
        assertThat(failure(VALID.replace("password_env: APP_PW", "password_ref: app-admin")).problems())
                .contains("gw.yaml: upstreams[0].credential.password_ref: must look like vault:NAME");
        assertThat(failure(VALID.replace("password_env: APP_PW", "password_env: 1-BAD")).problems())
                .anyMatch(p -> p.contains("upstreams[0].credential.password_env"));
        assertThat(failure(VALID.replace("    credential: { user: gw, password_env: APP_PW }\n", "")).problems())
                .anyMatch(p -> p.startsWith("gw.yaml: upstreams[0].credential: is required"));
    }

    @Test
    void credentialPasswordIsKeptOutOfToString() throws Exception {
        var c = parse(VALID.replace("password_env: APP_PW", "password: hunter2")).config();
        assertThat(c.toString()).doesNotContain("hunter2");
    }

    @Test
    void everyProblemIsReportedNotJustTheFirst() {
        String yaml = """
                listen: { port: 70000 }
                upstreams: []
                authenticators: []
                policies: []
                """;
        assertThat(failure(yaml).problems()).hasSizeGreaterThanOrEqualTo(4)
                .anyMatch(p -> p.contains("listen.port"))
                .anyMatch(p -> p.contains("upstreams: at least one"))
                .anyMatch(p -> p.contains("authenticators: at least one"))
                .anyMatch(p -> p.contains("policies: at least one"));
    }

    @Test
    void wrongShapeIsExplainedInYamlTerms() {
        assertThat(failure(VALID.replace("groups: [agents]", "groups: agents")).getMessage())
                .contains("policies[0].match.groups: a list is expected here");
        assertThat(failure(VALID + "listen: [1, 2]\n").getMessage()).contains("listen: a mapping (key: value pairs) is expected here");
        // Regression (found by ConfigLoaderFuzzTest): a scalar where a mapping belongs was
        // explained with Jackson's Java class names.
        assertThat(failure(VALID + "listen: hm\n").getMessage()).endsWith("listen: a mapping (key: value pairs) is expected here")
                .doesNotContain("io.pgwarden", "Creator");
    }

    @Test
    void relativePathsResolveAgainstTheFilesFolder() throws Exception {
        Path sub = Files.createDirectories(dir.resolve("etc"));
        Files.createDirectories(sub.resolve("tls"));
        Files.writeString(sub.resolve("tls/gw.pem"), "cert");
        Files.writeString(sub.resolve("tls/gw.key"), "key");
        Path file = sub.resolve("pgwarden.yaml");
        Files.writeString(file, VALID + """
                listen: { tls: { cert: tls/gw.pem, key: tls/gw.key } }
                plugins: { dir: ../plugins }
                """);
        LoadedConfig loaded = ConfigLoader.load(file);
        assertThat(loaded.baseDir()).isEqualTo(sub.toAbsolutePath());
        assertThat(loaded.resolve(loaded.config().listen().tls().cert())).isEqualTo(sub.resolve("tls/gw.pem").toAbsolutePath());
        assertThat(loaded.resolve(loaded.config().plugins().dir())).isEqualTo(dir.resolve("plugins").toAbsolutePath());
    }

    @Test
    void missingRelativeFileIsReportedWithItsResolvedPath() throws Exception {
        Path file = dir.resolve("pgwarden.yaml");
        Files.writeString(file, VALID + "listen: { tls: { cert: gw.pem, key: gw.key } }\n");
        ConfigException e = assertThrowsConfig(file);
        assertThat(e.problems()).anyMatch(p -> p.contains("listen.tls.cert: no such file: " + dir.resolve("gw.pem")));
    }

    @Test
    void certWithoutKeyIsRefused() {
        assertThat(failure(VALID + "listen: { tls: { cert: /etc/hostname } }\n").problems())
                .anyMatch(p -> p.contains("listen.tls: cert and key go together"));
    }

    @Test
    void missingFileIsNamed() {
        assertThatThrownBy(() -> ConfigLoader.load(dir.resolve("absent.yaml")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("absent.yaml: no such file");
    }

    @Test
    void unknownPolicyCommandAndBadMaskAreNamed() {
        String yaml = VALID + """
                    allow: { commands: [SELEKT] }
                    mask: [ { column: customers.email, masker: email } ]
                """;
        assertThat(failure(yaml).problems())
                .anyMatch(p -> p.contains("policies[0].allow.commands[0]: unknown command \"SELEKT\""))
                .anyMatch(p -> p.contains("policies[0].mask[0].column: \"customers.email\" is not of the form schema.table.column"));
    }

    @Test
    void approvalRulesNeedAConditionKnownApproversAndPositiveDurations() {
        String yaml = "approvers: [ { type: web } ]\n" + VALID + """
                    approve:
                      - { when: {}, approvers: [web] }
                      - { when: { commands: [DELEET], estimated_rows_over: -1 }, approvers: [slack], timeout: 0s, mode: ticket }
                      - { when: { functions: ["bad name"] }, approvers: [web] }
                """;
        assertThat(failure(yaml).problems())
                .anyMatch(p -> p.contains("policies[0].approve[0].when: give at least one condition"))
                .anyMatch(p -> p.contains("policies[0].approve[1].when.commands[0]: unknown command \"DELEET\""))
                .anyMatch(p -> p.contains("policies[0].approve[1].when.estimated_rows_over: must not be negative"))
                .anyMatch(p -> p.contains("policies[0].approve[1].approvers[0]: no approver is configured with the type or name \"slack\""))
                .anyMatch(p -> p.contains("policies[0].approve[1].timeout: must be longer than zero"))
                .anyMatch(p -> p.contains("policies[0].approve[2].when.functions[0]: \"bad name\" is not a pattern"));
        assertThat(failure(VALID + """
                    approve: [ { when: { ddl: true }, approvers: [web], mode: later } ]
                """).getMessage()).contains("mode").contains("hold").contains("ticket");
        assertThat(failure("admin: { public_url: \"pgwarden.example.com\" }\n" + VALID).problems())
                .anyMatch(p -> p.contains("admin.public_url: must be an absolute http(s) URL"));
        assertThat(failure("admin: { oidc: { issuer: \"http://idp.example.com\" } }\n" + VALID).problems())
                .anyMatch(p -> p.contains("admin.oidc.issuer: must be the identity provider's https URL"))
                .anyMatch(p -> p.contains("admin.oidc.client_id: is required"))
                .anyMatch(p -> p.contains("admin.oidc: name the groups or names"));
    }

    @Test
    void approvalRulesAreEnforcedNotRefusedAtStartUp() throws Exception {
        LoadedConfig c = parse("approvers: [ { type: web } ]\n" + VALID + """
                    approve: [ { when: { commands: [DELETE], without_where: true }, approvers: [web] } ]
                """);
        assertThat(UnenforcedSettings.find(c.config())).isEmpty();
        var rule = c.config().policies().getFirst().approve().getFirst();
        assertThat(rule.timeout()).isEqualTo(Duration.ofMinutes(10));
        assertThat(rule.mode()).isEqualTo(GatewayConfig.ApprovalMode.HOLD);
    }

    @Test
    void everyExampleConfigurationInTheRepositoryLoads() throws IOException {
        Path examples = Path.of("../config");
        if (!Files.isDirectory(examples)) {
            return; // the examples are being written; nothing to check yet
        }
        List<Path> files;
        try (Stream<Path> walk = Files.walk(examples)) {
            files = walk.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().toList();
        }
        for (Path file : files) {
            try {
                ConfigLoader.load(file);
            } catch (ConfigException e) {
                throw new AssertionError(file + " does not load:\n" + e.getMessage(), e);
            }
        }
    }

    private static ConfigException assertThrowsConfig(Path file) {
        try {
            ConfigLoader.load(file);
        } catch (ConfigException e) {
            return e;
        }
        throw new AssertionError(file + " was accepted");
    }
}
