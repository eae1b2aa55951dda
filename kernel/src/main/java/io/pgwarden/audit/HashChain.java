package io.pgwarden.audit;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The link of a SHA-256 hash chain, shared by the audit trail and session recordings:
 * {@code hash = SHA-256(previous hash ‖ canonical encoding of this record)}, with
 * {@link #GENESIS} (32 zero bytes) before the first record. A changed, removed or reordered
 * record changes every hash after it.
 */
public final class HashChain {
    public static final byte[] GENESIS = new byte[32];

    private HashChain() {
    }

    /** The chain hash of a record whose canonical encoding is {@code canonical}. */
    public static byte[] link(byte[] previous, byte[] canonical) {
        MessageDigest sha = sha256();
        sha.update(previous);
        sha.update(canonical);
        return sha.digest();
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
