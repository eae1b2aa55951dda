package io.pgwarden.upstream;

import com.ongres.scram.client.ScramClient;
import com.ongres.scram.common.exception.ScramException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.pgwarden.wire.BackendMessages;
import io.pgwarden.wire.FrontendMessages;
import io.pgwarden.wire.MessageReader;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import io.pgwarden.vault.Secret;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * The gateway's side of upstream password authentication as a step function: given the
 * server's Authentication message, the reply to send (or null once the server said OK).
 * Supports SCRAM-SHA-256 (as pgjdbc does, through ongres scram-client), MD5, cleartext
 * and trust. No I/O here; the handshake handler does that. The password is read from the
 * {@link Secret} only while a reply is computed; the connector wipes it when the login ends.
 */
final class UpstreamAuthExchange {
    static final String SCRAM_SHA_256 = "SCRAM-SHA-256";

    private final String user;
    private final Secret password;
    private ScramClient scram;
    private boolean done;

    UpstreamAuthExchange(String user, Secret password) {
        this.user = user;
        this.password = password;
    }

    boolean done() {
        return done;
    }

    /** @return the message to send, or null when authentication has succeeded */
    ByteBuf respond(ByteBufAllocator alloc, ByteBuf authentication) throws UpstreamException {
        int code = MessageReader.authenticationCode(authentication);
        try {
            return switch (code) {
                case BackendMessages.AUTH_OK -> {
                    done = true;
                    yield null;
                }
                case BackendMessages.AUTH_CLEARTEXT_PASSWORD -> {
                    byte[] utf8 = password.utf8();
                    try {
                        yield FrontendMessages.password(alloc, utf8);
                    } finally {
                        Arrays.fill(utf8, (byte) 0);
                    }
                }
                case BackendMessages.AUTH_MD5_PASSWORD ->
                        FrontendMessages.password(alloc, md5(MessageReader.authenticationData(authentication)));
                case BackendMessages.AUTH_SASL -> saslStart(alloc, MessageReader.saslMechanisms(authentication));
                case BackendMessages.AUTH_SASL_CONTINUE -> saslContinue(alloc, MessageReader.authenticationData(authentication));
                case BackendMessages.AUTH_SASL_FINAL -> {
                    saslFinal(MessageReader.authenticationData(authentication));
                    yield null;
                }
                default -> throw new UpstreamException("the upstream asks for authentication method " + code
                        + ", which pgwarden does not support (use scram-sha-256, md5, password or trust)");
            };
        } catch (ScramException e) {
            throw new UpstreamException("SCRAM authentication with the upstream failed: " + e.getMessage());
        }
    }

    private ByteBuf saslStart(ByteBufAllocator alloc, List<String> mechanisms) throws UpstreamException {
        if (!mechanisms.contains(SCRAM_SHA_256)) {
            throw new UpstreamException("the upstream offers SASL mechanisms " + mechanisms + " but not " + SCRAM_SHA_256);
        }
        // Channel binding (SCRAM-SHA-256-PLUS) is not used: the mechanism list is limited to
        // the plain variant, which PostgreSQL always offers alongside.
        scram = ScramClient.builder()
                .advertisedMechanisms(List.of(SCRAM_SHA_256))
                .username(user)
                .password(password.chars())
                .build();
        byte[] first = scram.clientFirstMessage().toString().getBytes(StandardCharsets.UTF_8);
        return FrontendMessages.saslInitialResponse(alloc, SCRAM_SHA_256, first);
    }

    private ByteBuf saslContinue(ByteBufAllocator alloc, byte[] serverFirst) throws ScramException, UpstreamException {
        requireScram();
        scram.serverFirstMessage(new String(serverFirst, StandardCharsets.UTF_8));
        return FrontendMessages.saslResponse(alloc, scram.clientFinalMessage().toString().getBytes(StandardCharsets.UTF_8));
    }

    private void saslFinal(byte[] serverFinal) throws ScramException, UpstreamException {
        requireScram();
        // Verifies the server's signature: an impostor upstream that does not know the
        // password's verifier is refused here.
        scram.serverFinalMessage(new String(serverFinal, StandardCharsets.UTF_8));
    }

    private void requireScram() throws UpstreamException {
        if (scram == null) {
            throw new UpstreamException("the upstream sent a SASL message out of order");
        }
    }

    private String md5(byte[] salt) {
        byte[] secret = password.utf8();
        byte[] secretAndUser = concat(secret, user.getBytes(StandardCharsets.UTF_8));
        byte[] inner = digest(secretAndUser);
        Arrays.fill(secret, (byte) 0);
        Arrays.fill(secretAndUser, (byte) 0);
        byte[] outer = digest(concat(HexFormat.of().formatHex(inner).getBytes(StandardCharsets.UTF_8), salt));
        return "md5" + HexFormat.of().formatHex(outer);
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] all = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    private static byte[] digest(byte[] data) {
        try {
            return MessageDigest.getInstance("MD5").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform provides MD5", e);
        }
    }
}
