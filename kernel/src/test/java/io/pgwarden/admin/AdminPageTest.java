package io.pgwarden.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgwarden.cli.CommandLineForTests;
import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.testing.TestGateway;
import io.pgwarden.testing.TestPostgres;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin page's login over HTTP: password check, cookie flags, CSRF on every changing
 * request, security headers; {@code pgwarden admin create-user} with the gateway stopped
 * and running; {@code /metrics} open but minimal.
 */
class AdminPageTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    @TempDir
    Path dir;

    private static String createUser(Path config, String name, String password) {
        InputStream stdin = System.in;
        System.setIn(new ByteArrayInputStream((password + "\n").getBytes(StandardCharsets.UTF_8)));
        try {
            var result = CommandLineForTests.run("admin", "create-user", name, "--config", config.toString());
            assertThat(result.exitCode()).as(result.err()).isZero();
            return result.out();
        } finally {
            System.setIn(stdin);
        }
    }

    private record Login(String session, String csrf) {
    }

    private static Login logIn(URI base, String user, String password) throws Exception {
        HttpResponse<String> form = HTTP.send(HttpRequest.newBuilder(base.resolve("/login")).build(), HttpResponse.BodyHandlers.ofString());
        String loginCookie = cookie(form, "pgwarden_login");
        Matcher token = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(form.body());
        assertThat(token.find()).isTrue();
        HttpResponse<String> posted = HTTP.send(HttpRequest.newBuilder(base.resolve("/login"))
                .header("Content-Type", "application/x-www-form-urlencoded").header("Cookie", "pgwarden_login=" + loginCookie)
                .POST(HttpRequest.BodyPublishers.ofString("csrf=" + token.group(1) + "&user=" + user + "&password="
                        + URLEncoder.encode(password, StandardCharsets.UTF_8))).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(posted.statusCode()).isEqualTo(303);
        if (!posted.headers().firstValue("Location").orElse("").equals("/")) {
            return null;
        }
        String setCookie = posted.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith("pgwarden_session=")).findFirst().orElseThrow();
        assertThat(setCookie).contains("HttpOnly").contains("SameSite=Strict");
        String session = cookie(posted, "pgwarden_session");
        JsonNode me = JSON.readTree(HTTP.send(HttpRequest.newBuilder(base.resolve("/api/me")).header("Cookie", "pgwarden_session=" + session)
                .build(), HttpResponse.BodyHandlers.ofString()).body());
        assertThat(me.path("user").asText()).isEqualTo(user);
        return new Login(session, me.path("csrf").asText());
    }

    private static String cookie(HttpResponse<?> response, String name) {
        return response.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith(name + "="))
                .map(c -> c.substring(name.length() + 1, c.indexOf(';'))).findFirst().orElseThrow();
    }

    @Test
    void loginCookiesCsrfAndHeaders() throws Exception {
        LocalPostgres pg = TestPostgres.shared();
        Path config = dir.resolve("pgwarden.yaml");
        String yaml = "admin: { port: 0, credential_file: \"" + dir.resolve("admin-credential.json") + "\" }\n"
                + TestGateway.yaml(pg, TestGateway.Settings.defaults(pg)).replaceFirst("store: \\{ url: \"[^\"]+\" }",
                "store: { url: \"jdbc:h2:file:" + dir.resolve("store/pgwarden") + "\" }");
        Files.writeString(config, yaml);
        // The first admin, made while the gateway is stopped: straight into its store.
        assertThat(createUser(config, "alice", "first password of alice")).contains("admin user alice can log in");
        try (TestGateway gateway = TestGateway.start(yaml, pg.password())) {
            URI base = gateway.gateway().adminUrl();
            HttpResponse<String> root = HTTP.send(HttpRequest.newBuilder(base.resolve("/")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(root.statusCode()).isEqualTo(303);
            assertThat(root.headers().firstValue("Location")).hasValue("/login");
            assertThat(root.headers().firstValue("Content-Security-Policy")).get().asString().contains("script-src 'self'");
            assertThat(root.headers().firstValue("X-Frame-Options")).hasValue("DENY");

            assertThat(logIn(base, "alice", "a wrong password!")).isNull();
            Login alice = logIn(base, "alice", "first password of alice");
            assertThat(alice).isNotNull();

            // A second user, made while the gateway runs: through its admin API.
            createUser(config, "bob", "bob's own long password");
            assertThat(logIn(base, "bob", "bob's own long password")).isNotNull();

            HttpRequest.Builder deny = HttpRequest.newBuilder(base.resolve("/api/approvals/nosuchrequest/deny"))
                    .header("Cookie", "pgwarden_session=" + alice.session()).POST(HttpRequest.BodyPublishers.ofString("{}"));
            HttpResponse<String> withoutToken = HTTP.send(deny.build(), HttpResponse.BodyHandlers.ofString());
            assertThat(withoutToken.statusCode()).isEqualTo(403);
            assertThat(withoutToken.body()).contains("CSRF");
            HttpResponse<String> withToken = HTTP.send(deny.header("X-CSRF-Token", alice.csrf()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(withToken.statusCode()).isEqualTo(404);
            // A browser login cannot create users: only the CLI on the gateway's machine can.
            HttpResponse<String> users = HTTP.send(HttpRequest.newBuilder(base.resolve("/api/admin/users"))
                    .header("Cookie", "pgwarden_session=" + alice.session()).header("X-CSRF-Token", alice.csrf())
                    .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"eve\",\"password\":\"eve's long password\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(users.statusCode()).isEqualTo(403);
            HttpResponse<String> forged = HTTP.send(HttpRequest.newBuilder(base.resolve("/api/approvals"))
                    .header("Cookie", "pgwarden_session=forged").build(), HttpResponse.BodyHandlers.ofString());
            assertThat(forged.statusCode()).isEqualTo(401);

            HttpResponse<String> metrics = HTTP.send(HttpRequest.newBuilder(base.resolve("/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.body()).contains("pgwarden_sessions ").contains("pgwarden_approvals_pending 0.0").doesNotContain("alice");
        }
    }
}
