package io.pgwarden.jit;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.PKCS5S2ParametersGenerator;
import org.bouncycastle.crypto.macs.HMac;
import org.bouncycastle.crypto.params.KeyParameter;

/**
 * The SCRAM-SHA-256 secret PostgreSQL stores for a password (RFC 5802/7677, the format of
 * {@code pg_authid.rolpassword}: {@code SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>}).
 * A role created with {@code PASSWORD '<this>'} gets it as is, so the plaintext password
 * never travels to the server nor appears in its statement log (as pgjdbc's
 * {@code PasswordUtil} does for ALTER ROLE).
 */
final class ScramVerifier {
    /**
     * The PBKDF2 iteration count. Iterations slow down guessing a human's password from a
     * stolen verifier; this password is 256 random bits, which no guessing reaches, so they
     * would buy nothing and cost the gateway twice per session (here, and again in its own
     * SCRAM login): at PostgreSQL's default of 4096 that was most of a JIT connection's set-up
     * time (docs/performance.md). PostgreSQL accepts any count of at least 1.
     */
    static final int ITERATIONS = 1;
    private static final SecureRandom RANDOM = new SecureRandom();

    private ScramVerifier() {
    }

    /** @param password the password's UTF-8 bytes (ASCII here: no SASLprep needed) */
    static String of(byte[] password) {
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        PKCS5S2ParametersGenerator pbkdf2 = new PKCS5S2ParametersGenerator(new SHA256Digest());
        pbkdf2.init(password, salt, ITERATIONS);
        byte[] salted = ((KeyParameter) pbkdf2.generateDerivedParameters(256)).getKey();
        byte[] clientKey = hmac(salted, "Client Key");
        byte[] serverKey = hmac(salted, "Server Key");
        SHA256Digest sha = new SHA256Digest();
        byte[] storedKey = new byte[sha.getDigestSize()];
        sha.update(clientKey, 0, clientKey.length);
        sha.doFinal(storedKey, 0);
        Arrays.fill(salted, (byte) 0);
        Arrays.fill(clientKey, (byte) 0);
        Base64.Encoder b64 = Base64.getEncoder();
        return "SCRAM-SHA-256$" + ITERATIONS + ":" + b64.encodeToString(salt) + "$" + b64.encodeToString(storedKey) + ":"
                + b64.encodeToString(serverKey);
    }

    private static byte[] hmac(byte[] key, String text) {
        HMac mac = new HMac(new SHA256Digest());
        mac.init(new KeyParameter(key));
        byte[] data = text.getBytes(StandardCharsets.US_ASCII);
        mac.update(data, 0, data.length);
        byte[] out = new byte[mac.getMacSize()];
        mac.doFinal(out, 0);
        return out;
    }
}
