package io.pgwarden.plugins.auditwebhook;

import io.pgwarden.plugin.api.AuditEvent;
import io.pgwarden.plugin.api.AuditSink;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * POSTs each batch as {@code {"events":[…]}} (each event as {@code AuditEvent.toJson()}).
 * A 2xx answer delivers the batch; anything else, a timeout or a connection failure fails
 * it, and the gateway sends the same batch again with backoff.
 *
 * <p>Receivers deduplicate on each event's {@code event_id}. The {@code Idempotency-Key}
 * header identifies the batch: the SHA-256 of its event ids, so a retried batch carries the
 * same key (after a gateway restart a batch may be cut differently, and then its key
 * differs; the event ids never do).
 */
final class WebhookSink implements AuditSink {
    private final URI url;
    private final Map<String, String> headers;
    private final String bearerToken;
    private final Duration timeout;
    private final int maxBatch;
    private final HttpClient client;

    WebhookSink(URI url, Map<String, String> headers, String bearerToken, Duration timeout, int maxBatch) {
        this.url = url;
        this.headers = Map.copyOf(headers);
        this.bearerToken = bearerToken;
        this.timeout = timeout;
        this.maxBatch = maxBatch;
        this.client = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    @Override
    public int maxBatchSize() {
        return maxBatch;
    }

    static String body(List<AuditEvent> batch) {
        StringBuilder sb = new StringBuilder(batch.size() * 512 + 16).append("{\"events\":[");
        for (int i = 0; i < batch.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(batch.get(i).toJson());
        }
        return sb.append("]}").toString();
    }

    static String idempotencyKey(List<AuditEvent> batch) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (AuditEvent e : batch) {
                sha.update(e.eventId().getBytes(StandardCharsets.UTF_8));
                sha.update((byte) '\n');
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    @Override
    public void deliver(List<AuditEvent> batch) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(url)
                .timeout(timeout)
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", idempotencyKey(batch))
                .POST(HttpRequest.BodyPublishers.ofString(body(batch), StandardCharsets.UTF_8));
        headers.forEach(request::header);
        if (bearerToken != null) {
            request.header("Authorization", "Bearer " + bearerToken);
        }
        HttpResponse<Void> response = client.send(request.build(), HttpResponse.BodyHandlers.discarding());
        if (response.statusCode() / 100 != 2) {
            throw new IOException("HTTP " + response.statusCode() + " from " + url);
        }
    }

    @Override
    public void close() {
        client.close();
    }
}
