package io.pgwarden.appliance;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.appliance.ApplianceTests.GatewayProcess;
import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.testing.ExternalCommand;
import io.pgwarden.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The distribution tarball, unpacked as an operator would, run against a real PostgreSQL. */
class DistributionIT {

    @TempDir
    Path dir;

    private Path unpack() throws Exception {
        Path tarball = ApplianceTests.artefact("appliance.tarball");
        ExternalCommand.Result tar = ExternalCommand.run(List.of("tar", "-xzf", tarball.toString(), "-C", dir.toString()), Map.of(), null, 120);
        assertThat(tar.exitCode()).as(tar.output()).isZero();
        String name = tarball.getFileName().toString().replace("-linux-x86_64.tar.gz", "");
        return dir.resolve(name);
    }

    @Test
    void versionNamesTheCommitTheBundledRuntimeAndPlugins() throws Exception {
        Path home = unpack();
        ExternalCommand.Result version = ExternalCommand.run(List.of(home.resolve("bin/pgwarden").toString(), "version"), Map.of(), null, 60);
        assertThat(version.exitCode()).as(version.output()).isZero();
        assertThat(version.output())
                .containsPattern("pgwarden \\S+ \\(commit [0-9a-f]{7,}(-dirty)?\\)")
                .contains(home.resolve("runtime").toString())
                .contains("auth-static-keys ", "auth-oidc ", "audit-jsonl ", "audit-syslog ", "audit-webhook ");
    }

    @Test
    void theRuntimeHoldsOnlyTheModulesPgwardenNeeds() throws Exception {
        Path home = unpack();
        ExternalCommand.Result modules = ExternalCommand.run(
                List.of(home.resolve("runtime/bin/java").toString(), "--list-modules"), Map.of(), null, 60);
        assertThat(modules.exitCode()).as(modules.output()).isZero();
        assertThat(modules.output()).contains("java.base@", "java.sql@", "jdk.unsupported@", "java.net.http@")
                .doesNotContain("jdk.compiler@", "jdk.jshell@", "jdk.jlink@");
        assertThat(home.resolve("runtime/include")).doesNotExist();
        assertThat(home.resolve("native/libpg_query.so.1504.0")).isRegularFile();
    }

    @Test
    void theUnpackedTarballServesQueriesThroughItsOwnRuntimeAndParser() throws Exception {
        Path home = unpack();
        LocalPostgres pg = TestPostgres.shared();
        Path state = Files.createDirectories(dir.resolve("state"));
        Path config = dir.resolve("pgwarden.yaml");
        int port = LocalPostgres.freePort();
        Files.writeString(config, ApplianceTests.yaml(pg, port, state));
        String launcher = home.resolve("bin/pgwarden").toString();

        ExternalCommand.Result check = ExternalCommand.run(List.of(launcher, "check-config", "--config", config.toString()),
                Map.of(), null, 60);
        assertThat(check.exitCode()).as(check.output()).isZero();

        // The shipped parser library, not the machine's: the machine may have the Debian package too.
        Map<String, String> env = Map.of(ApplianceTests.PASSWORD_VARIABLE, pg.password(),
                "PGWARDEN_JAVA_OPTS", "-Dpgwarden.libpgquery=" + home.resolve("native/libpg_query.so.1504.0"));
        try (GatewayProcess gateway = GatewayProcess.start(List.of(launcher, "run", "--config", config.toString()), env,
                dir.resolve("gateway.log"))) {
            gateway.awaitHealthy(List.of(launcher, "health", "--config", config.toString()));
            ApplianceTests.assertServesAndEnforcesPolicy(port);
            assertThat(gateway.stop()).as(gateway.output()).isEqualTo(143);
            assertThat(gateway.output()).contains("plugin auth-static-keys").doesNotContain("Exception");
        }
        ExternalCommand.Result stopped = ExternalCommand.run(List.of(launcher, "health", "--config", config.toString()),
                Map.of(), null, 60);
        assertThat(stopped.exitCode()).as(stopped.output()).isEqualTo(1);
    }
}
