package io.pgwarden.devdb;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throw-away PostgreSQL server from the machine's own binaries, in a temporary folder, on
 * a free loopback port, with SCRAM authentication. The demo mode and the integration tests
 * both use it. PostgreSQL refuses to run as root, so when this JVM is root the server runs
 * as the unprivileged {@code postgres} user through {@code runuser}.
 */
public final class LocalPostgres implements AutoCloseable {
    private final Path binDir;
    private final Path dir;
    private final int port;
    private final String superuser;
    private final String password;
    private final boolean asPostgresUser;
    private boolean running;

    private LocalPostgres(Path binDir, Path dir, int port, String superuser, String password, boolean asPostgresUser) {
        this.binDir = binDir;
        this.dir = dir;
        this.port = port;
        this.superuser = superuser;
        this.password = password;
        this.asPostgresUser = asPostgresUser;
    }

    /** Settings for a new server; extra pg_hba lines go before the SCRAM catch-all. */
    public record Options(String superuser, Map<String, String> settings, List<String> hbaLines) {
        public static Options defaults() {
            return new Options("pgwarden_admin", Map.of(), List.of());
        }

        public Options withSettings(Map<String, String> more) {
            Map<String, String> all = new java.util.LinkedHashMap<>(settings);
            all.putAll(more);
            return new Options(superuser, all, hbaLines);
        }

        public Options withHbaLines(List<String> lines) {
            List<String> all = new ArrayList<>(hbaLines);
            all.addAll(lines);
            return new Options(superuser, settings, all);
        }
    }

    public static LocalPostgres start(Options options) throws IOException {
        Path bin = findBinDir();
        boolean root = "root".equals(System.getProperty("user.name"));
        Path dir = Files.createTempDirectory("pgwarden-pg-");
        String password = HexFormat.of().formatHex(randomBytes(16));
        int port = freePort();
        LocalPostgres pg = new LocalPostgres(bin, dir, port, options.superuser(), password, root);
        try {
            Path pwfile = dir.resolve("pwfile");
            Files.writeString(pwfile, password + "\n");
            if (root) {
                pg.exec(List.of("chown", "-R", "postgres:postgres", dir.toString()), false);
            }
            pg.exec(List.of(bin.resolve("initdb").toString(), "-D", pg.dataDir().toString(), "-U", options.superuser(),
                    "--pwfile=" + pwfile, "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"), true);
            Files.deleteIfExists(pwfile);
            StringBuilder conf = new StringBuilder("\n# pgwarden LocalPostgres\n")
                    .append("listen_addresses = '127.0.0.1'\n")
                    .append("port = ").append(port).append('\n')
                    .append("unix_socket_directories = '").append(dir).append("'\n")
                    .append("password_encryption = 'scram-sha-256'\n");
            options.settings().forEach((k, v) -> conf.append(k).append(" = ").append(v).append('\n'));
            Files.writeString(pg.dataDir().resolve("postgresql.conf"), conf, StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.APPEND);
            StringBuilder hba = new StringBuilder("local all all scram-sha-256\n");
            options.hbaLines().forEach(l -> hba.append(l).append('\n'));
            hba.append("host all all 127.0.0.1/32 scram-sha-256\n");
            Files.writeString(pg.dataDir().resolve("pg_hba.conf"), hba);
            pg.exec(List.of(bin.resolve("pg_ctl").toString(), "-D", pg.dataDir().toString(), "-l",
                    dir.resolve("server.log").toString(), "-w", "-t", "60", "start"), true);
            pg.running = true;
            return pg;
        } catch (IOException | RuntimeException e) {
            pg.close();
            throw e;
        }
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new SecureRandom().nextBytes(b);
        return b;
    }

    /** The newest PostgreSQL under /usr/lib/postgresql, or PGWARDEN_PG_BIN when set. */
    public static Path findBinDir() throws IOException {
        String override = System.getenv("PGWARDEN_PG_BIN");
        if (override != null && !override.isBlank()) {
            return Path.of(override);
        }
        Path root = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(root)) {
            try (Stream<Path> versions = Files.list(root)) {
                var best = versions.filter(p -> Files.isExecutable(p.resolve("bin/postgres")))
                        .max(Comparator.comparingInt(p -> parseVersion(p.getFileName().toString())));
                if (best.isPresent()) {
                    return best.get().resolve("bin");
                }
            }
        }
        throw new IOException("no PostgreSQL server binaries found under /usr/lib/postgresql "
                + "(install the postgresql package, or set PGWARDEN_PG_BIN to the folder holding initdb and pg_ctl)");
    }

    private static int parseVersion(String name) {
        try {
            return Integer.parseInt(name);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    public Path dataDir() {
        return dir.resolve("data");
    }

    public Path binDir() {
        return binDir;
    }

    public int port() {
        return port;
    }

    public String host() {
        return "127.0.0.1";
    }

    public String superuser() {
        return superuser;
    }

    public String password() {
        return password;
    }

    /** The folder holding the server's Unix-domain socket ({@code .s.PGSQL.<port>}). */
    public Path socketDirectory() {
        return dir;
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    /** Runs SQL as the superuser through psql (ON_ERROR_STOP); returns psql's output. */
    public String sql(String database, String sql) throws IOException {
        Path file = Files.createTempFile(dir, "script-", ".sql");
        try {
            Files.writeString(file, sql);
            if (asPostgresUser) {
                exec(List.of("chown", "postgres:postgres", file.toString()), false);
            }
            return exec(List.of(binDir.resolve("psql").toString(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                    "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", superuser, "-d", database, "-f", file.toString()), true);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    private String exec(List<String> command, boolean asServerUser) throws IOException {
        List<String> full = new ArrayList<>();
        if (asServerUser && asPostgresUser) {
            full.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        full.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(full).redirectErrorStream(true);
        pb.environment().put("PGPASSWORD", password);
        pb.environment().put("PGCONNECT_TIMEOUT", "10");
        pb.directory(dir.toFile());
        Process p = pb.start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("timed out: " + String.join(" ", command));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException("interrupted: " + String.join(" ", command), e);
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException(command.getFirst() + " failed (exit " + p.exitValue() + "): " + text.strip());
        }
        return text;
    }

    /** Stops the server (fast shutdown) and deletes its folder. */
    @Override
    public void close() {
        try {
            if (running) {
                running = false;
                exec(List.of(binDir.resolve("pg_ctl").toString(), "-D", dataDir().toString(), "-m", "fast", "-w", "-t", "30", "stop"), true);
            }
        } catch (IOException e) {
            System.err.println("pgwarden: could not stop the local PostgreSQL in " + dir + ": " + e.getMessage());
        } finally {
            deleteTree(dir);
        }
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.err.println("pgwarden: could not remove " + dir + ": " + e.getMessage());
        }
    }
}
