package io.pgwarden.tls;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
import javax.net.ssl.SSLException;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The gateway's TLS server context: the configured PEM certificate and key, or a
 * self-signed certificate made at start-up (whose SHA-256 fingerprint is logged so a
 * client can pin it). ALPN offers "postgresql" for PostgreSQL 17's direct TLS handshake.
 */
public final class ServerTls {
    /** The ALPN protocol PostgreSQL 17 clients require on a direct TLS connection. */
    public static final String ALPN_POSTGRESQL = "postgresql";

    private final SslContext context;
    private final String fingerprint;

    private ServerTls(SslContext context, String fingerprint) {
        this.context = context;
        this.fingerprint = fingerprint;
    }

    public SslContext context() {
        return context;
    }

    /** SHA-256 of the certificate's DER encoding, colon-separated hex, as openssl prints it. */
    public String fingerprint() {
        return fingerprint;
    }

    public static ServerTls fromPem(Path certChain, Path privateKey) throws TlsSetupException {
        try {
            SslContext ctx = builder(SslContextBuilder.forServer(certChain.toFile(), privateKey.toFile()));
            X509Certificate first = (X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
                    .generateCertificate(java.nio.file.Files.newInputStream(certChain));
            return new ServerTls(ctx, fingerprintOf(first));
        } catch (SSLException | IllegalArgumentException e) {
            throw new TlsSetupException("listen.tls: the certificate or key cannot be used: " + e.getMessage());
        } catch (IOException | CertificateException e) {
            throw new TlsSetupException("listen.tls.cert: cannot read " + certChain + ": " + e.getMessage());
        }
    }

    public static ServerTls selfSigned(String hostName) throws TlsSetupException {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
            KeyPair keys = generator.generateKeyPair();
            X500Name subject = new X500Name("CN=pgwarden self-signed");
            Instant now = Instant.now();
            X509v3CertificateBuilder cert = new JcaX509v3CertificateBuilder(subject,
                    new BigInteger(127, new SecureRandom()), Date.from(now.minus(Duration.ofMinutes(5))),
                    Date.from(now.plus(Duration.ofDays(365))), subject, keys.getPublic());
            cert.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                    new GeneralName(GeneralName.dNSName, "localhost"),
                    new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                    hostName.matches("[0-9.:]+") ? new GeneralName(GeneralName.iPAddress, hostName)
                            : new GeneralName(GeneralName.dNSName, hostName)}));
            X509Certificate certificate = new JcaX509CertificateConverter()
                    .getCertificate(cert.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
            SslContext ctx = builder(SslContextBuilder.forServer(keys.getPrivate(), certificate));
            return new ServerTls(ctx, fingerprintOf(certificate));
        } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
            throw new TlsSetupException("cannot generate a self-signed certificate: " + e.getMessage());
        }
    }

    private static SslContext builder(SslContextBuilder builder) throws SSLException {
        return builder
                .protocols("TLSv1.3", "TLSv1.2")
                .applicationProtocolConfig(new ApplicationProtocolConfig(
                        ApplicationProtocolConfig.Protocol.ALPN,
                        // A client that offers ALPN without "postgresql" is refused in the handshake
                        // with no_application_protocol, as PostgreSQL 17 does (alpn_cb in
                        // be-secure-openssl.c, RFC 7301); one that offers no ALPN at all goes on.
                        ApplicationProtocolConfig.SelectorFailureBehavior.FATAL_ALERT,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ALPN_POSTGRESQL))
                .build();
    }

    private static String fingerprintOf(X509Certificate certificate) throws CertificateException {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform provides SHA-256", e);
        }
    }

}
