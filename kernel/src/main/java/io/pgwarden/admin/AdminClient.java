package io.pgwarden.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How the CLI talks to a running gateway: reads the {@link AdminCredential} the gateway
 * wrote, calls the admin API with it, and turns every failure into one sentence an
 * operator can act on ({@link AdminClientException}).
 */
public final class AdminClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final AdminCredential credential;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();

    private AdminClient(AdminCredential credential) {
        this.credential = credential;
    }

    public static AdminClient fromCredentialFile(Path file) throws AdminClientException {
        try {
            return new AdminClient(AdminCredential.readFrom(file));
        } catch (IOException e) {
            throw new AdminClientException(e.getMessage());
        }
    }

    public JsonNode get(String path) throws AdminClientException {
        return send(request(path).GET());
    }

    public JsonNode post(String path) throws AdminClientException {
        return send(request(path).POST(HttpRequest.BodyPublishers.noBody()));
    }

    /** A PUT with a binary body (a secret for the vault: the caller zeroes its array afterwards). */
    public JsonNode put(String path, byte[] body) throws AdminClientException {
        return send(request(path).header("Content-Type", "application/octet-stream").PUT(HttpRequest.BodyPublishers.ofByteArray(body)));
    }

    /** POST with a JSON body. */
    public JsonNode post(String path, java.util.Map<String, ?> body) throws AdminClientException {
        String json;
        try {
            json = JSON.writeValueAsString(body);
        } catch (IOException e) {
            throw new AdminClientException("cannot encode the request: " + e.getMessage());
        }
        return send(request(path).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    public JsonNode delete(String path) throws AdminClientException {
        return send(request(path).DELETE());
    }

    /** Encodes a path segment (a vault name: letters, digits, '_', '.', '-' pass unchanged). */
    public static String encodePath(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** Encodes a query-string value. */
    public static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(credential.url().resolve(URI.create(path)))
                .timeout(TIMEOUT)
                .header("Authorization", "Bearer " + credential.token())
                .header("Accept", "application/json");
    }

    private JsonNode send(HttpRequest.Builder builder) throws AdminClientException {
        HttpResponse<String> response;
        try {
            response = http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException e) {
            throw new AdminClientException("cannot reach the gateway's admin API at " + credential.url()
                    + ": connection refused (is the gateway running?)");
        } catch (IOException e) {
            throw new AdminClientException("cannot reach the gateway's admin API at " + credential.url() + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AdminClientException("interrupted");
        }
        JsonNode body;
        try {
            body = JSON.readTree(response.body());
        } catch (IOException e) {
            throw new AdminClientException("the admin API at " + credential.url() + " answered " + response.statusCode()
                    + " with something that is not JSON (is that port really pgwarden's admin API?)");
        }
        if (response.statusCode() / 100 != 2) {
            String message = body != null && body.path("error").isTextual() ? body.get("error").asText() : "HTTP " + response.statusCode();
            if (response.statusCode() == 401) {
                message += " (the credential file is older than the running gateway, or not its own)";
            }
            throw new AdminClientException(message, response.statusCode());
        }
        return body;
    }
}
