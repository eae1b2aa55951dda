package io.pgwarden.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.pgwarden.wire.MessageReader;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class UpstreamAuthExchangeTest {
    private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

    private static ByteBuf authentication(int code, byte... data) {
        return Unpooled.buffer().writeByte('R').writeInt(8 + data.length).writeInt(code).writeBytes(data);
    }

    private static String respondWithPassword(UpstreamAuthExchange exchange, ByteBuf request) throws UpstreamException {
        ByteBuf reply = exchange.respond(ALLOC, request);
        request.release();
        try {
            assertThat(MessageReader.type(reply)).isEqualTo((byte) 'p');
            assertThat(reply.getInt(1)).isEqualTo(reply.readableBytes() - 1);
            return MessageReader.password(reply);
        } finally {
            reply.release();
        }
    }

    @Test
    void md5AnswerMatchesAVectorComputedWithPython() throws Exception {
        // python3: 'md5' + md5(md5(b'role-secret-1' + b'md5_user').hexdigest().encode() + b'\x01\x02\x03\xff').hexdigest()
        var exchange = new UpstreamAuthExchange("md5_user", io.pgwarden.vault.Secret.of("role-secret-1"));
        String answer = respondWithPassword(exchange, authentication(5, (byte) 1, (byte) 2, (byte) 3, (byte) 0xff));
        assertThat(answer).isEqualTo("md50ba0604f84d66dc87363fca295d08ff1");
        assertThat(exchange.done()).isFalse();
    }

    @Test
    void md5AnswerMatchesTheDocumentedFormula() throws Exception {
        // PostgreSQL docs, AuthenticationMD5Password: concat('md5', md5(concat(md5(concat(password, username)), random-salt)))
        byte[] salt = {(byte) 0x9a, 0x00, 0x7f, 0x10};
        String inner = hex(md5(("s3cr\u00e9t" + "alice").getBytes(StandardCharsets.UTF_8)));
        byte[] outerInput = new byte[32 + 4];
        System.arraycopy(inner.getBytes(StandardCharsets.US_ASCII), 0, outerInput, 0, 32);
        System.arraycopy(salt, 0, outerInput, 32, 4);
        String expected = "md5" + hex(md5(outerInput));

        String answer = respondWithPassword(new UpstreamAuthExchange("alice", io.pgwarden.vault.Secret.of("s3cr\u00e9t")), authentication(5, salt));
        assertThat(answer).isEqualTo(expected).hasSize(35);
    }

    @Test
    void cleartextSendsThePassword() throws Exception {
        assertThat(respondWithPassword(new UpstreamAuthExchange("u", io.pgwarden.vault.Secret.of("plain pw")), authentication(3))).isEqualTo("plain pw");
    }

    @Test
    void okEndsTheExchange() throws Exception {
        var exchange = new UpstreamAuthExchange("u", io.pgwarden.vault.Secret.of("p"));
        ByteBuf ok = authentication(0);
        assertThat(exchange.respond(ALLOC, ok)).isNull();
        ok.release();
        assertThat(exchange.done()).isTrue();
    }

    @Test
    void unsupportedMethodIsAnUpstreamException() {
        // 7 is AuthenticationGSS.
        ByteBuf gss = authentication(7);
        assertThatThrownBy(() -> new UpstreamAuthExchange("u", io.pgwarden.vault.Secret.of("p")).respond(ALLOC, gss))
                .isInstanceOf(UpstreamException.class).hasMessageContaining("method 7");
        gss.release();
    }

    @Test
    void saslWithoutScramSha256IsRefused() {
        ByteBuf sasl = Unpooled.buffer().writeByte('R').writeInt(0).writeInt(10);
        sasl.writeBytes("SCRAM-SHA-256-PLUS\0\0".getBytes(StandardCharsets.US_ASCII));
        sasl.setInt(1, sasl.writerIndex() - 1);
        assertThatThrownBy(() -> new UpstreamAuthExchange("u", io.pgwarden.vault.Secret.of("p")).respond(ALLOC, sasl))
                .isInstanceOf(UpstreamException.class).hasMessageContaining("SCRAM-SHA-256");
        sasl.release();
    }

    @Test
    void saslContinueBeforeStartIsRefused() {
        ByteBuf cont = authentication(11, "r=abc".getBytes(StandardCharsets.US_ASCII));
        assertThatThrownBy(() -> new UpstreamAuthExchange("u", io.pgwarden.vault.Secret.of("p")).respond(ALLOC, cont))
                .isInstanceOf(UpstreamException.class).hasMessageContaining("out of order");
        cont.release();
    }

    private static byte[] md5(byte[] data) throws Exception {
        return MessageDigest.getInstance("MD5").digest(data);
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
