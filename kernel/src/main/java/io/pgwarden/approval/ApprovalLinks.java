package io.pgwarden.approval;

import io.pgwarden.plugin.api.ApprovalRequest;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The signed approve/deny links in notifications: HMAC-SHA256 over the request id, the
 * action, the recipient and the approver instance, with a key made fresh at every start
 * (requests do not outlive the gateway, so neither need their links). A link is good for one
 * decision: once a request is decided, every link of it is refused.
 */
public final class ApprovalLinks {
    private final byte[] key = new byte[32];
    private volatile URI base;

    /** @param base the admin page's public address (admin.public_url); null: where it listens, once known */
    public ApprovalLinks(URI base) {
        new SecureRandom().nextBytes(key);
        if (base != null) {
            this.base = withSlash(base);
        }
    }

    /** Where the admin page listens: the links' base unless admin.public_url set one. */
    public void listeningAt(URI url) {
        if (base == null) {
            base = withSlash(url);
        }
    }

    private static URI withSlash(URI base) {
        String b = base.toString();
        return URI.create(b.endsWith("/") ? b : b + "/");
    }

    public URI page(String requestId) {
        return base.resolve("approvals/" + requestId);
    }

    public ApprovalRequest.Links links(String requestId, String recipient, String via) {
        return new ApprovalRequest.Links(link(requestId, "approve", recipient, via), link(requestId, "deny", recipient, via));
    }

    private URI link(String requestId, String action, String recipient, String via) {
        return base.resolve("approvals/" + requestId + "/link?action=" + action + "&to=" + encode(recipient) + "&via="
                + encode(via) + "&sig=" + sign(requestId, action, recipient, via));
    }

    /** Constant-time check of a link's signature. */
    public boolean verify(String requestId, String action, String recipient, String via, String signature) {
        if (requestId == null || action == null || recipient == null || via == null || signature == null) {
            return false;
        }
        return MessageDigest.isEqual(sign(requestId, action, recipient, via).getBytes(StandardCharsets.US_ASCII),
                signature.getBytes(StandardCharsets.US_ASCII));
    }

    private String sign(String requestId, String action, String recipient, String via) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            // Length-prefixed fields: no two different tuples sign the same bytes.
            for (String field : new String[] {requestId, action, recipient, via}) {
                byte[] bytes = field.getBytes(StandardCharsets.UTF_8);
                mac.update(java.nio.ByteBuffer.allocate(4).putInt(bytes.length).array());
                mac.update(bytes);
            }
            return Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
