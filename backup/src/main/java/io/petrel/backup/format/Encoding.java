package io.petrel.backup.format;

import com.fasterxml.jackson.annotation.JsonInclude;

import static java.util.Objects.requireNonNull;

/**
 * How an object's bytes are stored: compressed with zstd or not, and encrypted or not (AES-256-GCM,
 * in Tink's streaming form with a key per object derived by HKDF, 1 MiB segments, the object's name
 * as associated data so objects cannot be swapped), with the fingerprint of the key.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Encoding(String compression, String encryption, String keyFingerprint) {
    public static final String ZSTD = "zstd";
    public static final String NONE = "none";
    public static final String AES_256_GCM = "aes-256-gcm-hkdf-streaming-1mib";

    public Encoding {
        requireNonNull(compression, "compression");
        requireNonNull(encryption, "encryption");
        if (!compression.equals(ZSTD) && !compression.equals(NONE)) {
            throw new IllegalArgumentException("unknown compression '" + compression + "'");
        }
        if (!encryption.equals(AES_256_GCM) && !encryption.equals(NONE)) {
            throw new IllegalArgumentException("unknown encryption '" + encryption + "'");
        }
        if (encryption.equals(AES_256_GCM) && keyFingerprint == null) {
            throw new IllegalArgumentException("an encrypted object must name its key's fingerprint");
        }
    }

    public static Encoding of(boolean compress, BackupKey key) {
        return new Encoding(compress ? ZSTD : NONE, key == null ? NONE : AES_256_GCM, key == null ? null : key.fingerprint());
    }

    public boolean encrypted() {
        return encryption.equals(AES_256_GCM);
    }

    public boolean compressed() {
        return compression.equals(ZSTD);
    }

    /** A short tag for object names, so that the same content stored two ways never shares a name. */
    public String tag() {
        return (compressed() ? "zst" : "raw") + (encrypted() ? "." + keyFingerprint : "");
    }
}
