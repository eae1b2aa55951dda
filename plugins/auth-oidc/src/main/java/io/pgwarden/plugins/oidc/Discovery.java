package io.pgwarden.plugins.oidc;

import com.nimbusds.jose.util.JSONObjectUtils;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * OpenID Connect Discovery 1.0: fetches {@code <issuer>/.well-known/openid-configuration} and
 * returns its {@code jwks_uri}. The document's {@code issuer} must equal the configured one
 * (Discovery §4.3), otherwise a document served under that path could point the gateway at
 * another party's keys.
 */
final class Discovery {
    /** A discovery document is a few KiB; refuse to buffer more than this. */
    private static final int MAX_DOCUMENT_BYTES = 256 * 1024;

    private final Duration timeout;

    Discovery(int timeoutMillis) {
        this.timeout = Duration.ofMillis(timeoutMillis);
    }

    URI jwksUri(URI documentUri, String issuer) throws DiscoveryException {
        // One client per discovery: it runs once per authenticator, and a client kept
        // would hold a selector thread for the gateway's lifetime.
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NEVER).build()) {
            return jwksUri(http, documentUri, issuer);
        }
    }

    private URI jwksUri(HttpClient http, URI documentUri, String issuer) throws DiscoveryException {
        String where = "OIDC discovery at " + documentUri;
        HttpResponse<InputStream> response;
        try {
            response = http.send(HttpRequest.newBuilder(documentUri).timeout(timeout)
                    .header("Accept", "application/json").GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw new DiscoveryException(where + " failed: " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : " " + e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DiscoveryException(where + " was interrupted");
        }
        String body;
        try (InputStream in = response.body()) {
            byte[] bytes = in.readNBytes(MAX_DOCUMENT_BYTES + 1);
            if (bytes.length > MAX_DOCUMENT_BYTES) {
                throw new DiscoveryException(where + ": document larger than " + MAX_DOCUMENT_BYTES + " bytes");
            }
            body = new String(bytes, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DiscoveryException(where + " failed while reading: " + e.getClass().getSimpleName());
        }
        if (response.statusCode() != 200) {
            throw new DiscoveryException(where + " answered HTTP " + response.statusCode());
        }
        Map<String, Object> document;
        try {
            document = JSONObjectUtils.parse(body);
        } catch (ParseException e) {
            throw new DiscoveryException(where + ": the document is not a JSON object");
        }
        if (!(document.get("issuer") instanceof String documentIssuer) || !documentIssuer.equals(issuer)) {
            throw new DiscoveryException(where + ": the document's issuer " + document.get("issuer")
                    + " does not equal the configured issuer " + issuer);
        }
        if (!(document.get("jwks_uri") instanceof String jwks)) {
            throw new DiscoveryException(where + ": the document has no jwks_uri");
        }
        URI uri;
        try {
            uri = new URI(jwks);
        } catch (java.net.URISyntaxException e) {
            throw new DiscoveryException(where + ": jwks_uri is not a URL");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        boolean issuerIsHttps = issuer.toLowerCase(Locale.ROOT).startsWith("https:");
        // Keys fetched in clear text could be replaced on the way; only an http issuer (a
        // local test provider) may name an http jwks_uri.
        if (!(scheme.equals("https") || scheme.equals("http") && !issuerIsHttps) || uri.getHost() == null) {
            throw new DiscoveryException(where + ": jwks_uri " + jwks + " must be an https URL");
        }
        return uri;
    }
}
