package io.pgwarden.plugins.oidc;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A minimal identity provider of the test's own, on a free port: a discovery document and a
 * JWKS whose keys the test can rotate, and a switch to take the whole endpoint down. Used
 * where mock-oauth2-server gives no control (key rotation, JWKS outage, nbf).
 */
final class TestJwks implements AutoCloseable {
    private final HttpServer server;
    private final List<com.nimbusds.jose.jwk.JWK> published = new ArrayList<>();
    private final AtomicInteger jwksFetches = new AtomicInteger();

    TestJwks() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/.well-known/openid-configuration", exchange -> respond(exchange,
                "{\"issuer\":\"" + issuer() + "\",\"jwks_uri\":\"" + issuer() + "/jwks\"}"));
        server.createContext("/jwks", exchange -> {
            jwksFetches.incrementAndGet();
            String body;
            synchronized (published) {
                body = new JWKSet(new ArrayList<>(published)).toString(true);
            }
            respond(exchange, body);
        });
        server.start();
    }

    private static void respond(com.sun.net.httpserver.HttpExchange exchange, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    String issuer() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    int jwksFetches() {
        return jwksFetches.get();
    }

    static RSAKey newKey(String kid) {
        try {
            return new RSAKeyGenerator(2048).keyID(kid).generate();
        } catch (com.nimbusds.jose.JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Publishes {@code key} (replacing what was published when {@code replace}). */
    void publish(com.nimbusds.jose.jwk.JWK key, boolean replace) {
        synchronized (published) {
            if (replace) {
                published.clear();
            }
            published.add(key.toPublicJWK());
        }
    }

    /** A token of this issuer for {@code audience}, valid for five minutes, adjusted by {@code claims}. */
    String sign(RSAKey key, String audience, Consumer<JWTClaimsSet.Builder> claims) {
        Instant now = Instant.now();
        JWTClaimsSet.Builder b = new JWTClaimsSet.Builder().issuer(issuer()).subject("agent-1").audience(audience)
                .issueTime(Date.from(now)).expirationTime(Date.from(now.plusSeconds(300))).jwtID("jti-1");
        claims.accept(b);
        try {
            SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID())
                    .type(JOSEObjectType.JWT).build(), b.build());
            jwt.sign(new RSASSASigner(key));
            return jwt.serialize();
        } catch (com.nimbusds.jose.JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A token of this issuer signed with Ed25519 by the JDK (nimbus would need Tink to sign);
     * {@code x} of the returned JWK is the public key, published by the caller.
     */
    String signEd25519(java.security.KeyPair pair, String kid, String audience) {
        Instant now = Instant.now();
        JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer(issuer()).subject("ed-agent").audience(audience)
                .issueTime(Date.from(now)).expirationTime(Date.from(now.plusSeconds(300))).build();
        String signingInput = new JWSHeader.Builder(JWSAlgorithm.EdDSA).keyID(kid).build().toBase64URL() + "."
                + com.nimbusds.jose.util.Base64URL.encode(claims.toString());
        try {
            java.security.Signature signer = java.security.Signature.getInstance("Ed25519");
            signer.initSign(pair.getPrivate());
            signer.update(signingInput.getBytes(StandardCharsets.US_ASCII));
            return signingInput + "." + com.nimbusds.jose.util.Base64URL.encode(signer.sign());
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The public JWK of a JDK Ed25519 key pair: x is the last 32 bytes of the X.509 encoding (RFC 8410). */
    static com.nimbusds.jose.jwk.OctetKeyPair ed25519Jwk(java.security.KeyPair pair, String kid) {
        byte[] der = pair.getPublic().getEncoded();
        byte[] x = java.util.Arrays.copyOfRange(der, der.length - 32, der.length);
        return new com.nimbusds.jose.jwk.OctetKeyPair.Builder(com.nimbusds.jose.jwk.Curve.Ed25519,
                com.nimbusds.jose.util.Base64URL.encode(x)).keyID(kid).build();
    }

    /** Takes the provider down: connections are refused from now on. */
    void stop() {
        server.stop(0);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
