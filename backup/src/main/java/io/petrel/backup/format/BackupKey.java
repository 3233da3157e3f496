package io.petrel.backup.format;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * The 256-bit key backups are encrypted with, and its fingerprint (a hash of it, safe to write into
 * manifests) so that a wrong key is named as such before any decryption is tried.
 *
 * <p>A key is 32 bytes given as 64 hex digits, as base64, or as a file of exactly 32 raw bytes.
 */
public final class BackupKey {
    private final byte[] key;
    private final String fingerprint;

    private BackupKey(byte[] key) {
        if (key.length != 32) {
            throw new IllegalArgumentException("a backup key is 32 bytes (AES-256), this one has " + key.length);
        }
        this.key = key.clone();
        this.fingerprint = fingerprintOf(key);
    }

    public static BackupKey of(byte[] key) {
        return new BackupKey(requireNonNull(key, "key"));
    }

    /** Reads a key file: 32 raw bytes, or 64 hex digits, or base64 text. */
    public static BackupKey fromFile(Path file) throws IOException {
        byte[] content;
        try {
            content = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IOException("cannot read the backup key file " + file + ": " + e.getMessage(), e);
        }
        if (content.length == 32) {
            return new BackupKey(content);
        }
        try {
            return parse(new String(content, StandardCharsets.US_ASCII).trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("backup key file " + file + ": " + e.getMessage());
        }
    }

    /** Reads a key from an environment variable (64 hex digits or base64). */
    public static BackupKey fromEnv(String variable, Map<String, String> env) {
        String v = env.get(variable);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException("environment variable " + variable + " (the backup key) is not set");
        }
        try {
            return parse(v.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("environment variable " + variable + ": " + e.getMessage());
        }
    }

    static BackupKey parse(String text) {
        if (text.matches("[0-9a-fA-F]{64}")) {
            return new BackupKey(HexFormat.of().parseHex(text));
        }
        try {
            byte[] b = Base64.getDecoder().decode(text);
            if (b.length == 32) {
                return new BackupKey(b);
            }
        } catch (IllegalArgumentException ignored) {
            // fall through to the message below
        }
        throw new IllegalArgumentException("a backup key must be 32 bytes: 64 hex digits, base64 of 32 bytes, or a 32-byte file");
    }

    private static String fingerprintOf(byte[] key) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update("petrel-backup-key-fingerprint".getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(Arrays.copyOf(sha.digest(key), 8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** 16 hex digits identifying the key without revealing it. */
    public String fingerprint() {
        return fingerprint;
    }

    byte[] bytes() {
        return key.clone();
    }

    @Override
    public String toString() {
        return "BackupKey[" + fingerprint + "]";
    }
}
