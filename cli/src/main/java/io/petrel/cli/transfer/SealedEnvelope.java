package io.petrel.cli.transfer;

import io.petrel.backup.format.BackupKey;
import io.petrel.backup.format.Encoding;
import io.petrel.backup.format.ObjectCodec;
import io.petrel.backup.format.WrongKeyException;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * An archive file encrypted with a key that never leaves the tenant's machine: a header line naming
 * the format and the key's fingerprint, then the archive in AES-256-GCM (the backups' codec: Tink's
 * streaming AEAD, segments of 1 MiB, each authenticated, so a changed or cut file is refused).
 */
public final class SealedEnvelope implements ArchiveEnvelope {
    static final String MAGIC = "PETREL-SEALED-NAMESPACE-ARCHIVE/1 key=";
    private static final String AAD = "petrel-namespace-archive";
    private final BackupKey key;

    public SealedEnvelope(BackupKey key) {
        this.key = requireNonNull(key, "key");
    }

    @Override
    public OutputStream seal(OutputStream file) throws IOException {
        file.write((MAGIC + key.fingerprint() + "\n").getBytes(StandardCharsets.US_ASCII));
        ObjectCodec codec = new ObjectCodec(Optional.of(key));
        return codec.encoder(file, Encoding.of(false, key), AAD);
    }

    @Override
    public InputStream open(InputStream file) throws IOException {
        String header = readHeader(file);
        String fingerprint = header.substring(MAGIC.length());
        if (!fingerprint.equals(key.fingerprint())) {
            file.close();
            throw new WrongKeyException("wrong key: the archive was encrypted with key " + fingerprint + ", the key given is " + key.fingerprint());
        }
        return new ObjectCodec(Optional.of(key)).decoder(file, Encoding.of(false, key), AAD);
    }

    @Override
    public boolean plain() {
        return false;
    }

    /** The fingerprint of the key a sealed archive file needs, or empty if the file is a plain archive. */
    public static Optional<String> keyOf(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] start = in.readNBytes(MAGIC.length());
            if (!Arrays.equals(start, MAGIC.getBytes(StandardCharsets.US_ASCII))) {
                return Optional.empty();
            }
        }
        try (InputStream in = Files.newInputStream(file)) {
            return Optional.of(readHeader(in).substring(MAGIC.length()));
        }
    }

    private static String readHeader(InputStream in) throws IOException {
        byte[] line = new byte[MAGIC.length() + 64];
        int n = 0;
        for (int b; n < line.length && (b = in.read()) >= 0 && b != '\n'; ) {
            line[n++] = (byte) b;
        }
        String header = new String(line, 0, n, StandardCharsets.US_ASCII);
        if (!header.startsWith(MAGIC)) {
            throw new IOException("not an encrypted Petrel namespace archive");
        }
        return header;
    }
}
