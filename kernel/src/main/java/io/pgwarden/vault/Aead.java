package io.pgwarden.vault;

import java.security.SecureRandom;
import java.util.Arrays;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.modes.GCMBlockCipher;
import org.bouncycastle.crypto.modes.GCMModeCipher;
import org.bouncycastle.crypto.params.AEADParameters;
import org.bouncycastle.crypto.params.KeyParameter;

/**
 * AES-256-GCM through BouncyCastle's lightweight API: a fresh random 96-bit nonce per
 * message, a 128-bit tag, and associated data that binds a ciphertext to what it is (a
 * secret's name, a key's role), so a ciphertext moved to another row does not decrypt.
 * A sealed blob is {@code nonce ‖ ciphertext ‖ tag}.
 */
final class Aead {
    static final int KEY_BYTES = 32;
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final SecureRandom RANDOM = new SecureRandom();

    private Aead() {
    }

    static byte[] randomKey() {
        byte[] key = new byte[KEY_BYTES];
        RANDOM.nextBytes(key);
        return key;
    }

    static byte[] seal(byte[] key, byte[] plaintext, byte[] associatedData) {
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        GCMModeCipher gcm = cipher(true, key, nonce, associatedData);
        byte[] out = new byte[NONCE_BYTES + gcm.getOutputSize(plaintext.length)];
        System.arraycopy(nonce, 0, out, 0, NONCE_BYTES);
        int n = gcm.processBytes(plaintext, 0, plaintext.length, out, NONCE_BYTES);
        try {
            gcm.doFinal(out, NONCE_BYTES + n);
        } catch (InvalidCipherTextException e) {
            throw new IllegalStateException("GCM encryption cannot fail", e);
        }
        return out;
    }

    /**
     * @return the plaintext (the caller zeroes it)
     * @throws VaultException when the blob was not sealed with this key and associated data,
     *                        or was altered
     */
    static byte[] open(byte[] key, byte[] sealed, byte[] associatedData) throws VaultException {
        if (sealed.length < NONCE_BYTES + TAG_BITS / 8) {
            throw new VaultException("a sealed value is too short to be one");
        }
        GCMModeCipher gcm = cipher(false, key, Arrays.copyOf(sealed, NONCE_BYTES), associatedData);
        byte[] out = new byte[gcm.getOutputSize(sealed.length - NONCE_BYTES)];
        int n = gcm.processBytes(sealed, NONCE_BYTES, sealed.length - NONCE_BYTES, out, 0);
        try {
            gcm.doFinal(out, n);
        } catch (InvalidCipherTextException e) {
            Arrays.fill(out, (byte) 0);
            throw new VaultException("a sealed value does not open with this key (wrong key, or altered)");
        }
        return out;
    }

    private static GCMModeCipher cipher(boolean encrypt, byte[] key, byte[] nonce, byte[] associatedData) {
        GCMModeCipher gcm = GCMBlockCipher.newInstance(AESEngine.newInstance());
        gcm.init(encrypt, new AEADParameters(new KeyParameter(key), TAG_BITS, nonce, associatedData));
        return gcm;
    }
}
