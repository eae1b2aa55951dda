package io.pgwarden.plugins.oidc;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.crypto.factories.DefaultJWSVerifierFactory;
import com.nimbusds.jose.jca.JCAContext;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.JWSKeySelector;
import com.nimbusds.jose.proc.JWSVerifierFactory;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.Base64URL;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.EdECPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * EdDSA (Ed25519, RFC 8037) with the JDK's own implementation. nimbus-jose-jwt verifies
 * Ed25519 only through Google Tink, an optional dependency of several MiB; the JDK has had
 * Ed25519 since 15, so the plugin selects OKP keys and verifies with {@code Signature}
 * itself and leaves every other algorithm to nimbus.
 */
final class Ed25519Support {
    static final Set<JWSAlgorithm> ALGORITHMS = Set.of(JWSAlgorithm.EdDSA, JWSAlgorithm.Ed25519);
    /** The DER prefix of an X.509 SubjectPublicKeyInfo for an Ed25519 key (RFC 8410 §4). */
    private static final byte[] X509_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

    private Ed25519Support() {
    }

    /** Picks Ed25519 keys from the JWKS for EdDSA headers; everything else goes to {@code others}. */
    static JWSKeySelector<SecurityContext> keySelector(Set<JWSAlgorithm> allowed, JWKSource<SecurityContext> keys,
                                                       JWSKeySelector<SecurityContext> others) {
        return (header, context) -> {
            if (!ALGORITHMS.contains(header.getAlgorithm())) {
                return others.selectJWSKeys(header, context);
            }
            if (!allowed.contains(header.getAlgorithm())) {
                return List.of();
            }
            JWKMatcher fromHeader = JWKMatcher.forJWSHeader(header);
            JWKMatcher matcher = (fromHeader == null ? new JWKMatcher.Builder() : new JWKMatcher.Builder(fromHeader))
                    .keyType(com.nimbusds.jose.jwk.KeyType.OKP).curve(Curve.Ed25519).build();
            List<Key> result = new ArrayList<>();
            for (JWK jwk : keys.get(new JWKSelector(matcher), context)) {
                if (jwk instanceof OctetKeyPair okp && Curve.Ed25519.equals(okp.getCurve())) {
                    try {
                        result.add(publicKey(okp.getX().decode()));
                    } catch (GeneralSecurityException e) {
                        throw new KeySourceException("the issuer's Ed25519 key is not valid", e);
                    }
                }
            }
            return result;
        };
    }

    static PublicKey publicKey(byte[] x) throws GeneralSecurityException {
        byte[] der = new byte[X509_PREFIX.length + x.length];
        System.arraycopy(X509_PREFIX, 0, der, 0, X509_PREFIX.length);
        System.arraycopy(x, 0, der, X509_PREFIX.length, x.length);
        return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
    }

    /** nimbus's factory, plus a JDK verifier for Ed25519 keys. */
    static JWSVerifierFactory verifierFactory() {
        DefaultJWSVerifierFactory nimbus = new DefaultJWSVerifierFactory();
        return new JWSVerifierFactory() {
            @Override
            public JWSVerifier createJWSVerifier(JWSHeader header, Key key) throws JOSEException {
                if (ALGORITHMS.contains(header.getAlgorithm()) && key instanceof EdECPublicKey edKey) {
                    return new JdkVerifier(edKey);
                }
                return nimbus.createJWSVerifier(header, key);
            }

            @Override
            public Set<JWSAlgorithm> supportedJWSAlgorithms() {
                Set<JWSAlgorithm> all = new java.util.HashSet<>(nimbus.supportedJWSAlgorithms());
                all.addAll(ALGORITHMS);
                return all;
            }

            @Override
            public JCAContext getJCAContext() {
                return nimbus.getJCAContext();
            }
        };
    }

    private record JdkVerifier(EdECPublicKey key) implements JWSVerifier {
        @Override
        public boolean verify(JWSHeader header, byte[] signingInput, Base64URL signature) throws JOSEException {
            try {
                Signature verifier = Signature.getInstance("Ed25519");
                verifier.initVerify(key);
                verifier.update(signingInput);
                return verifier.verify(signature.decode());
            } catch (java.security.SignatureException e) {
                return false;
            } catch (GeneralSecurityException e) {
                throw new JOSEException("Ed25519 verification failed", e);
            }
        }

        @Override
        public Set<JWSAlgorithm> supportedJWSAlgorithms() {
            return ALGORITHMS;
        }

        @Override
        public JCAContext getJCAContext() {
            return new JCAContext();
        }
    }
}
