package io.pgwarden.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgwarden.devdb.LocalPostgres;
import io.pgwarden.testing.TestGateway;
import io.pgwarden.testing.TestPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * People log in to the admin page through an OIDC provider (an in-process mock-oauth2-server):
 * the authorization code flow with PKCE, a state bound to the browser, and only the
 * configured groups or names admitted.
 */
class AdminOidcLoginTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
    private static final String CLIENT = "pgwarden-admin";

    private MockOAuth2Server idp;
    private TestGateway gateway;

    @BeforeEach
    void start() throws Exception {
        idp = new MockOAuth2Server();
        idp.start();
        LocalPostgres pg = TestPostgres.shared();
        Path credential = Files.createTempDirectory("pgwarden-admin-").resolve("admin-credential.json");
        String yaml = """
                admin:
                  port: 0
                  credential_file: "%s"
                  oidc: { issuer: "%s", client_id: %s, groups: [dba], names: [carol] }
                """.formatted(credential, idp.issuerUrl("people"), CLIENT) + TestGateway.yaml(pg, TestGateway.Settings.defaults(pg));
        gateway = TestGateway.start(yaml, pg.password());
    }

    @AfterEach
    void stop() {
        gateway.close();
        idp.shutdown();
    }

    private static String cookie(HttpResponse<?> response, String name) {
        return response.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith(name + "="))
                .map(c -> c.substring(name.length() + 1, c.indexOf(';'))).findFirst().orElse(null);
    }

    private HttpResponse<String> get(URI uri, String cookie) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri);
        if (cookie != null) {
            b.header("Cookie", cookie);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Logs in as a person with these claims; returns the callback's response. */
    private HttpResponse<String> logIn(Map<String, Object> claims, boolean sameBrowser) throws Exception {
        URI base = gateway.gateway().adminUrl();
        HttpResponse<String> start = get(base.resolve("/login/oidc"), null);
        assertThat(start.statusCode()).isEqualTo(303);
        String browser = cookie(start, "pgwarden_oidc");
        assertThat(start.headers().allValues("Set-Cookie")).anyMatch(c -> c.startsWith("pgwarden_oidc=") && c.contains("SameSite=Lax"));
        URI authorize = URI.create(start.headers().firstValue("Location").orElseThrow());
        assertThat(authorize.toString()).startsWith(idp.issuerUrl("people").toString()).contains("code_challenge_method=S256")
                .contains("code_challenge=").contains("nonce=").contains("state=");
        idp.enqueueCallback(new DefaultOAuth2TokenCallback("people", "sub-" + claims.get("preferred_username"), "JWT",
                List.of(CLIENT), claims, 3600));
        HttpResponse<String> atProvider = get(authorize, null);
        assertThat(atProvider.statusCode()).isBetween(300, 399);
        URI callback = URI.create(atProvider.headers().firstValue("Location").orElseThrow());
        assertThat(callback.getPath()).isEqualTo("/login/oidc/callback");
        return get(callback, "pgwarden_oidc=" + (sameBrowser ? browser : "another-browser"));
    }

    @Test
    void aPersonInAnAdmittedGroupLogsIn() throws Exception {
        HttpResponse<String> done = logIn(Map.of("preferred_username", "alice", "groups", List.of("staff", "dba")), true);
        assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
        String session = cookie(done, "pgwarden_session");
        assertThat(session).isNotBlank();
        var me = JSON.readTree(get(gateway.gateway().adminUrl().resolve("/api/me"), "pgwarden_session=" + session).body());
        assertThat(me.path("user").asText()).isEqualTo("alice");
        assertThat(get(gateway.gateway().adminUrl().resolve("/login"), null).body()).contains("Log in with " + idp.issuerUrl("people"));
    }

    @Test
    void aPersonNamedInNamesLogsIn() throws Exception {
        assertThat(logIn(Map.of("preferred_username", "carol"), true).statusCode()).isEqualTo(200);
    }

    @Test
    void aPersonOutsideTheAdmittedGroupsAndNamesIsRefused() throws Exception {
        HttpResponse<String> done = logIn(Map.of("preferred_username", "mallory", "groups", List.of("staff")), true);
        assertThat(done.statusCode()).isEqualTo(403);
        assertThat(cookie(done, "pgwarden_session")).isNull();
    }

    @Test
    void aCallbackInAnotherBrowserIsRefused_loginCsrf() throws Exception {
        HttpResponse<String> done = logIn(Map.of("preferred_username", "alice", "groups", List.of("dba")), false);
        assertThat(done.statusCode()).isEqualTo(403);
        assertThat(cookie(done, "pgwarden_session")).isNull();
    }
}
