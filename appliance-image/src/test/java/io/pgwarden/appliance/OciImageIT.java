package io.pgwarden.appliance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgwarden.appliance.ApplianceTests.GatewayProcess;
import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.testing.ExternalCommand;
import io.pgwarden.testing.TestPostgres;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OCI image archive as a registry or container engine would read it: its configuration,
 * what its layers hold, and the gateway run from its root filesystem the way a container
 * runtime would (read-only root, uid 10001, one writable volume, the image's own
 * entrypoint), here with unshare and chroot since the machine has no container engine.
 */
class OciImageIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String STATE = "/var/lib/pgwarden";

    @TempDir
    Path dir;

    private Path layout;
    private JsonNode config;
    private List<Path> layers;

    @BeforeEach
    void unpackTheArchive() throws Exception {
        layout = Files.createDirectories(dir.resolve("layout"));
        run(List.of("tar", "-xf", ApplianceTests.artefact("appliance.oci").toString(), "-C", layout.toString()));
        assertThat(layout.resolve("oci-layout")).isRegularFile();
        JsonNode index = JSON.readTree(layout.resolve("index.json").toFile());
        assertThat(index.path("manifests")).hasSize(1);
        JsonNode manifest = blob(index.path("manifests").get(0).path("digest").asText());
        config = blob(manifest.path("config").path("digest").asText());
        layers = new ArrayList<>();
        manifest.path("layers").forEach(l -> layers.add(blobPath(l.path("digest").asText())));
        assertThat(layers).isNotEmpty();
    }

    @Test
    void theImageRunsTheGatewayAsAnUnprivilegedUserWithItsStateOnOneVolume() {
        JsonNode c = config.path("config");
        assertThat(config.path("os").asText()).isEqualTo("linux");
        assertThat(config.path("architecture").asText()).isEqualTo("amd64");
        assertThat(c.path("User").asText()).isEqualTo("10001:10001");
        assertThat(strings(c.path("Entrypoint"))).startsWith("/opt/pgwarden/runtime/bin/java")
                .contains("-jar", "/opt/pgwarden/lib/pgwarden-kernel.jar");
        assertThat(strings(c.path("Cmd"))).containsExactly("run", "--config", "/etc/pgwarden/pgwarden.yaml");
        assertThat(c.path("Volumes").has(STATE)).as("volumes: %s", c.path("Volumes")).isTrue();
        assertThat(c.path("ExposedPorts").has("6432/tcp")).isTrue();
        assertThat(c.path("Labels").path("io.pgwarden.healthcheck").asText()).endsWith("health --config /etc/pgwarden/pgwarden.yaml");
        assertThat(c.path("Labels").path("org.opencontainers.image.revision").asText()).matches("[0-9a-f]{40}");
    }

    @Test
    void theLayersHoldNoShellNoPackageManagerAndNoSecrets() throws Exception {
        List<String> entries = new ArrayList<>();
        for (Path layer : layers) {
            entries.addAll(run(List.of("tar", "-tzf", layer.toString())).lines().map(e -> "/" + e.replaceFirst("^\\.?/", "")).toList());
        }
        assertThat(entries).contains("/opt/pgwarden/lib/pgwarden-kernel.jar", "/opt/pgwarden/native/libpg_query.so.1504.0",
                "/etc/pgwarden/pgwarden.yaml", "/lib/x86_64-linux-gnu/libc.so.6");
        assertThat(entries).noneMatch(e -> e.matches("/(usr/)?s?bin/(sh|bash|dash|busybox|apt|apt-get|dpkg)"))
                .noneMatch(e -> e.contains("/bin/pgwarden"))
                .noneMatch(e -> e.matches(".*\\.(key|pem|p12|jks)$") || e.endsWith("vault.key") || e.endsWith("admin-credential.json"))
                .noneMatch(e -> e.startsWith(STATE + "/") && !e.equals(STATE + "/"));

        Path root = unpackedRoot();
        try (Stream<Path> configs = Files.walk(root.resolve("etc"))) {
            for (Path f : configs.filter(Files::isRegularFile).toList()) {
                assertThat(Files.readString(f, StandardCharsets.ISO_8859_1)).as(f.toString())
                        .doesNotContain("PRIVATE KEY").doesNotContainPattern("password:\\s*\\S");
            }
        }
    }

    @Test
    void theGatewayServesQueriesFromTheImageOnAReadOnlyRoot() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "chroot and mounts need root (CI runs as root)");
        Path root = unpackedRoot();
        LocalPostgres pg = TestPostgres.shared();
        int port = LocalPostgres.freePort();
        Path etc = Files.createDirectories(dir.resolve("etc-pgwarden"));
        Files.writeString(etc.resolve("pgwarden.yaml"), ApplianceTests.yaml(pg, port, Path.of(STATE)));
        Path state = Files.createDirectories(dir.resolve("state"));
        run(List.of("chown", "10001:10001", state.toString()));

        List<String> entrypoint = strings(config.path("config").path("Entrypoint"));
        List<String> runCommand = new ArrayList<>(entrypoint);
        runCommand.addAll(strings(config.path("config").path("Cmd")));
        List<String> health = new ArrayList<>(entrypoint);
        health.addAll(List.of("health", "--config", "/etc/pgwarden/pgwarden.yaml"));

        try (GatewayProcess gateway = GatewayProcess.start(container(root, etc, state, runCommand),
                Map.of(ApplianceTests.PASSWORD_VARIABLE, pg.password()), dir.resolve("gateway.log"))) {
            gateway.awaitHealthy(container(root, etc, state, health));
            ApplianceTests.assertServesAndEnforcesPolicy(port);
            assertThat(gateway.stop()).as(gateway.output()).isEqualTo(143);
            assertThat(gateway.output()).doesNotContain("Exception", "Read-only file system");
        }
        try (Stream<Path> written = Files.list(state)) {
            assertThat(written.map(p -> p.getFileName().toString())).contains("pgwarden.mv.db", "audit");
        }
    }

    /**
     * {@code command} inside {@code root} as a container runtime would start it: its own mount
     * namespace, the image read-only, /proc and /dev mounted, the configuration and the state
     * volume bound in, the image's user. The network is the host's, so loopback reaches
     * the test's PostgreSQL.
     */
    private static List<String> container(Path root, Path etc, Path state, List<String> command) {
        String script = """
                set -e
                mount --bind "$0" "$0" && mount -o remount,bind,ro "$0"
                mount -t proc proc "$0/proc" && mount --rbind /dev "$0/dev"
                mount --bind "$1" "$0/etc/pgwarden" && mount -o remount,bind,ro "$0/etc/pgwarden"
                mount --bind "$2" "$0%s"
                shift 3
                exec chroot --userspec=10001:10001 "$0" "$@"
                """.formatted(STATE);
        // No --fork: the shell, then chroot, then java replace one another in the same
        // process, so the SIGTERM of a stop reaches the gateway itself.
        List<String> c = new ArrayList<>(List.of("unshare", "--mount", "--", "sh", "-c", script,
                root.toString(), etc.toString(), state.toString(), "--"));
        c.addAll(command);
        return c;
    }

    private Path unpackedRoot() throws IOException, InterruptedException {
        Path root = Files.createDirectories(dir.resolve("rootfs"));
        for (Path layer : layers) {
            run(List.of("tar", "--numeric-owner", "-xzf", layer.toString(), "-C", root.toString()));
        }
        return root;
    }

    private JsonNode blob(String digest) throws IOException {
        return JSON.readTree(blobPath(digest).toFile());
    }

    private Path blobPath(String digest) {
        assertThat(digest).startsWith("sha256:");
        return layout.resolve("blobs/sha256").resolve(digest.substring("sha256:".length()));
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        ExternalCommand.Result r = ExternalCommand.run(command, Map.of(), null, 300);
        assertThat(r.exitCode()).as("%s:\n%s", command, r.output()).isZero();
        return r.output();
    }
}
