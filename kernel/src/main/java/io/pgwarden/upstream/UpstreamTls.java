package io.pgwarden.upstream;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.pgwarden.config.GatewayConfig.UpstreamTlsMode;
import java.nio.file.Path;
import javax.net.ssl.SSLException;

/** The client-side TLS context for one upstream, following libpq's sslmode semantics. */
final class UpstreamTls {

    private UpstreamTls() {
    }

    /**
     * prefer and require encrypt without checking the server's certificate (as libpq does
     * without a root certificate); verify-full checks the chain, against tls_root_cert or the
     * JDK's trust store, and that the certificate names the configured host.
     */
    static SslContext context(UpstreamTlsMode mode, Path rootCert) throws SSLException {
        SslContextBuilder builder = SslContextBuilder.forClient().protocols("TLSv1.3", "TLSv1.2");
        if (mode == UpstreamTlsMode.VERIFY_FULL) {
            if (rootCert != null) {
                builder.trustManager(rootCert.toFile());
            }
            builder.endpointIdentificationAlgorithm("HTTPS");
        } else {
            builder.trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
        }
        return builder.build();
    }
}
