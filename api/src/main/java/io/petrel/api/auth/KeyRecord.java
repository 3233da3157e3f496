package io.petrel.api.auth;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;

import static java.util.Objects.requireNonNull;

/**
 * A namespace's API key as stored: the uuid, the namespace, a random salt and SHA-256(salt ‖ key).
 * The key itself is never stored. A fast hash is enough here: keys are 64 random characters
 * (about 380 bits), so guessing one from its hash is hopeless without a slow hash, and a fast one
 * keeps authentication off the request's critical path.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record KeyRecord(String uuid, String namespace, String salt, String hash, long created, String role) {
    public static final int KEY_LENGTH = 64;
    private static final String KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    public KeyRecord {
        requireNonNull(uuid, "uuid");
        requireNonNull(namespace, "namespace");
        requireNonNull(salt, "salt");
        requireNonNull(hash, "hash");
    }

    /** A record for {@code key}, with a fresh salt. */
    public static KeyRecord of(String uuid, String namespace, String key, long now, SecureRandom random, Role role) {
        byte[] salt = new byte[16];
        random.nextBytes(salt);
        String saltHex = HexFormat.of().formatHex(salt);
        return new KeyRecord(uuid, namespace, saltHex, hash(saltHex, key), now, role.id());
    }

    /** The key's role; a record without one is a namespace admin (see {@link Role}). */
    public Role roleOrAdmin() {
        return role == null ? Role.ADMIN : Role.parse(role);
    }

    /** Whether {@code key} is this record's key, compared in constant time. */
    public boolean matches(String key) {
        return MessageDigest.isEqual(HexFormat.of().parseHex(hash), HexFormat.of().parseHex(hash(salt, key)));
    }

    static String hash(String saltHex, String key) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(HexFormat.of().parseHex(saltHex));
            sha.update(key.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A new random key of OpenWhisk's length. */
    public static String newKey(SecureRandom random) {
        StringBuilder b = new StringBuilder(KEY_LENGTH);
        for (int i = 0; i < KEY_LENGTH; i++) {
            b.append(KEY_ALPHABET.charAt(random.nextInt(KEY_ALPHABET.length())));
        }
        return b.toString();
    }
}
