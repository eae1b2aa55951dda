package io.pgwarden.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The local credential that lets the CLI on the gateway's own machine use the admin API:
 * the API's address and a random bearer token, written by the running gateway to a file
 * only its owner can read (DESIGN §5: commands work through the admin API, authenticated
 * by a credential kept in the data directory). A new token is made at every start, so a
 * copy taken earlier stops working when the gateway restarts.
 */
public record AdminCredential(URI url, String token) {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();

    /** A fresh 256-bit token for the admin API at {@code url}. */
    public static AdminCredential generate(URI url) {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return new AdminCredential(url, Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
    }

    /** Constant-time comparison, so the token cannot be guessed byte by byte from timings. */
    public boolean accepts(String presented) {
        return presented != null && MessageDigest.isEqual(
                token.getBytes(StandardCharsets.UTF_8), presented.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Writes the file with owner-only permissions from the start (never readable by others,
     * not even for a moment), then moves it into place.
     */
    public void writeTo(Path file) throws IOException {
        String json = JSON.createObjectNode().put("url", url.toString()).put("token", token).toString();
        io.pgwarden.store.OwnerOnlyFile.write(file, (json + "\n").getBytes(StandardCharsets.UTF_8), true);
    }

    /** Reads what a running gateway wrote; the message says what to do when there is nothing. */
    public static AdminCredential readFrom(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new IOException("no admin credential at " + file + ": is the gateway running with this configuration?");
        }
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (IOException e) {
            throw new IOException(file + " is not an admin credential written by pgwarden");
        }
        if (node == null || !node.path("url").isTextual() || !node.path("token").isTextual()) {
            throw new IOException(file + " is not an admin credential written by pgwarden");
        }
        return new AdminCredential(URI.create(node.get("url").asText()), node.get("token").asText());
    }

    /** Removes the file at shutdown if it is still this gateway's (a newer gateway may own it). */
    public void removeFrom(Path file) {
        try {
            if (readFrom(file).token().equals(token)) {
                Files.deleteIfExists(file);
            }
        } catch (IOException ignored) {
            // Already gone or replaced: nothing of ours to remove.
        }
    }

    @Override
    public String toString() {
        return "AdminCredential[url=" + url + ", token=<hidden>]";
    }
}
