package io.pgwarden.vault;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A password in a char array that {@link #close} overwrites with zeros. Java cannot promise
 * more (the garbage collector may have copied the array, and libraries that take a String
 * keep their own copy); what this class does promise is that the gateway's own copy lives
 * only as long as the login that needs it.
 */
public final class Secret implements AutoCloseable {
    private final char[] chars;
    private boolean closed;

    private Secret(char[] chars) {
        this.chars = chars;
    }

    /** Takes ownership of {@code chars}: they are zeroed when this secret is closed. */
    public static Secret wrap(char[] chars) {
        return new Secret(chars);
    }

    /** A secret from a String that cannot itself be wiped (an environment variable, a dev-only config value). */
    public static Secret of(String value) {
        return new Secret(value.toCharArray());
    }

    /** Decodes UTF-8 and zeroes {@code utf8}. */
    static Secret fromUtf8(byte[] utf8) throws VaultException {
        try {
            CharBuffer decoded = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(utf8));
            char[] chars = Arrays.copyOfRange(decoded.array(), decoded.position(), decoded.limit());
            Arrays.fill(decoded.array(), '\0');
            return new Secret(chars);
        } catch (CharacterCodingException e) {
            throw new VaultException("a stored secret is not valid UTF-8");
        } finally {
            Arrays.fill(utf8, (byte) 0);
        }
    }

    /** The characters themselves, valid until {@link #close}; the caller must not keep them. */
    public char[] chars() {
        if (closed) {
            throw new IllegalStateException("the secret was already wiped");
        }
        return chars;
    }

    /** The UTF-8 bytes, in a new array that the caller zeroes. */
    public byte[] utf8() {
        ByteBuffer encoded = StandardCharsets.UTF_8.encode(CharBuffer.wrap(chars()));
        byte[] bytes = Arrays.copyOfRange(encoded.array(), encoded.position(), encoded.limit());
        Arrays.fill(encoded.array(), (byte) 0);
        return bytes;
    }

    public boolean isEmpty() {
        return chars.length == 0;
    }

    @Override
    public void close() {
        Arrays.fill(chars, '\0');
        closed = true;
    }

    /** Never shows the secret, whatever logs or formats this object. */
    @Override
    public String toString() {
        return "Secret[" + (closed ? "wiped" : "hidden") + "]";
    }
}
