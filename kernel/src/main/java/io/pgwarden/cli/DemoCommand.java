package io.pgwarden.cli;

import io.pgwarden.config.ConfigException;
import io.pgwarden.config.ConfigLoader;
import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.server.Gateway;
import io.pgwarden.server.GatewayStartException;
import io.pgwarden.store.StoreException;
import io.pgwarden.vault.Vault;
import io.pgwarden.vault.VaultException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A development mode in the spirit of {@code vault server -dev}: a real PostgreSQL started
 * from the machine's binaries with a sample schema of fake PII, a gateway in front of it,
 * one agent key, and the psql line to paste. Everything lives in a temporary folder that
 * Ctrl-C removes. Nothing here is fit for production: the key is printed, TLS is self-signed.
 */
@Command(name = "demo", description = "Start a throw-away PostgreSQL with sample data and a gateway in front of it, "
        + "print a psql command line to try it, and clean everything up on Ctrl-C.")
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--port", defaultValue = "6432", description = "Port for the gateway (default ${DEFAULT-VALUE}; 0 picks a free one).")
    int port;

    /** The vault entry holding the demo PostgreSQL's password. */
    static final String VAULT_NAME = "demo-upstream";

    static final String SAMPLE_SCHEMA = """
            CREATE TABLE customers (
                id          integer PRIMARY KEY,
                full_name   text NOT NULL,
                email       text NOT NULL,
                phone       text,
                ssn         text,
                card_number text,
                created_at  timestamptz NOT NULL DEFAULT now()
            );
            CREATE TABLE orders (
                id          integer PRIMARY KEY,
                customer_id integer NOT NULL REFERENCES customers(id),
                amount      numeric(10,2) NOT NULL,
                status      text NOT NULL,
                ordered_at  timestamptz NOT NULL
            );
            -- Fake people: names, e-mail addresses, US-style SSNs and Luhn-valid test card
            -- numbers, all generated, none real.
            INSERT INTO customers (id, full_name, email, phone, ssn, card_number)
            SELECT i,
                   (ARRAY['Ada','Grace','Alan','Edsger','Barbara','Donald','Frances','Ken'])[1 + i % 8] || ' ' ||
                   (ARRAY['Lovelace','Hopper','Turing','Dijkstra','Liskov','Knuth','Allen','Thompson'])[1 + (i / 8) % 8],
                   'customer' || i || '@example.com',
                   '+1-555-' || lpad((1000 + i)::text, 4, '0'),
                   lpad((900 + i % 99)::text, 3, '0') || '-' || lpad((i % 97 + 1)::text, 2, '0') || '-' || lpad((1000 + i)::text, 4, '0'),
                   (ARRAY['4111111111111111','5555555555554444','378282246310005','6011111111111117'])[1 + i % 4]
            FROM generate_series(1, 200) AS i;
            INSERT INTO orders (id, customer_id, amount, status, ordered_at)
            SELECT i, 1 + i % 200, round((random() * 500)::numeric, 2),
                   (ARRAY['new','paid','shipped','returned'])[1 + i % 4],
                   now() - (i || ' hours')::interval
            FROM generate_series(1, 1000) AS i;
            """;

    @Override
    public Integer call() throws Exception {
        System.out.println("pgwarden demo: starting a throw-away PostgreSQL...");
        LocalPostgres pg;
        try {
            pg = LocalPostgres.start(LocalPostgres.Options.defaults());
        } catch (IOException e) {
            System.err.println("pgwarden demo: cannot start PostgreSQL: " + e.getMessage());
            return 1;
        }
        Path dir = Files.createTempDirectory("pgwarden-demo-");
        Gateway gateway = null;
        try {
            pg.sql("postgres", "CREATE DATABASE app;");
            pg.sql("app", SAMPLE_SCHEMA);
            String key = "pgw_demo_" + HexFormat.of().formatHex(random(18));
            Path configFile = dir.resolve("pgwarden-demo.yaml");
            Files.writeString(configFile, config(pg, key, port));
            var loaded = ConfigLoader.load(configFile);
            // As an operator would with `pgwarden vault put`: the upstream password goes into
            // the encrypted store (the master key is generated in the demo folder), never into the file.
            try (Vault vault = Vault.open(loaded, name -> null)) {
                vault.put(VAULT_NAME, pg.password().getBytes(StandardCharsets.UTF_8));
            }
            gateway = Gateway.start(loaded, name -> null);
            printWelcome(gateway, key, configFile, pg);
            Gateway started = gateway;
            Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {
                System.out.println("\npgwarden demo: stopping the gateway and PostgreSQL, removing " + dir);
                // Whatever the gateway's shutdown does, the server and the folder must go.
                try {
                    started.shutdown(java.time.Duration.ofSeconds(2));
                } finally {
                    pg.close();
                    deleteQuietly(dir);
                }
            }));
            Thread.currentThread().join();
            return 0;
        } catch (ConfigException | GatewayStartException | IOException | VaultException | StoreException e) {
            System.err.println("pgwarden demo: " + e.getMessage());
            if (gateway != null) {
                gateway.close();
            }
            pg.close();
            deleteQuietly(dir);
            return 1;
        }
    }

    static String config(LocalPostgres pg, String key, int port) {
        return """
                # Written by `pgwarden demo`. A real deployment keeps keys' digests only, as here,
                # and never puts a password in this file (see docs/configuration.md).
                listen: { host: 127.0.0.1, port: %d, tls: { mode: prefer } }
                admin: { host: 127.0.0.1, port: 0 }   # any free port; the CLI finds it in ./data/admin-credential.json
                upstreams:
                  - name: app
                    host: 127.0.0.1
                    port: %d
                    database: app
                    tls: prefer
                    credential: { user: %s, password_ref: "vault:%s" }   # stored by the demo in ./data (encrypted)
                authenticators:
                  - type: static-keys
                    keys:
                      - { name: demo-agent, key_sha256: "%s", groups: [demo-agents] }
                policies:
                  - name: demo
                    match: { groups: [demo-agents] }
                    upstream: app
                """.formatted(port, pg.port(), pg.superuser(), VAULT_NAME, sha256Hex(key));
    }

    private static void printWelcome(Gateway gateway, String key, Path configFile, LocalPostgres pg) {
        int p = gateway.port();
        System.out.println("""

                pgwarden demo is running.
                  gateway:     127.0.0.1:%d  (TLS with a self-signed certificate, SHA-256 %s)
                  PostgreSQL:  127.0.0.1:%d  database "app" with sample tables customers and orders (fake PII)
                  config:      %s

                Connect as the agent "demo-agent", with its key as the password:

                  psql "host=127.0.0.1 port=%d dbname=app user=demo-agent password=%s sslmode=require"

                Then try:  SELECT id, full_name, email FROM customers LIMIT 5;
                A wrong key, another user name or another database is refused; see the log lines below.
                Live sessions, from another terminal (admin API at %s):

                  ./pgwarden sessions list --config %s
                  ./pgwarden sessions kill --config %s --identity demo-agent

                Press Ctrl-C to stop; everything is removed.
                """.formatted(p, gateway.tlsFingerprint(), pg.port(), configFile, p, key, gateway.adminUrl(), configFile, configFile));
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new SecureRandom().nextBytes(b);
        return b;
    }

    static String sha256Hex(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteQuietly(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // best effort: it is a temporary folder
        }
    }
}
