package io.petrel.backup.format;

import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStream;
import com.google.crypto.tink.subtle.AesGcmHkdfStreaming;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.DigestInputStream;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Turns plain bytes into stored bytes and back: zstd, then AES-256-GCM (see {@link Encoding}). Streams
 * throughout: an object of any size needs a segment of memory, not its size.
 */
public final class ObjectCodec {
    private static final int SEGMENT = 1 << 20;
    private final Optional<BackupKey> key;

    /** A codec that can write and read objects encrypted with {@code key}, or only plain ones if empty. */
    public ObjectCodec(Optional<BackupKey> key) {
        this.key = key;
    }

    public Optional<BackupKey> key() {
        return key;
    }

    /** The encoding new objects get: compressed or not, encrypted if this codec has a key. */
    public Encoding encoding(boolean compress) {
        return Encoding.of(compress, key.orElse(null));
    }

    /** Wraps {@code out} so that what is written to the result is stored in {@code encoding}. */
    public OutputStream encoder(OutputStream out, Encoding encoding, String objectName) throws IOException {
        OutputStream s = out;
        if (encoding.encrypted()) {
            BackupKey k = keyFor(encoding, objectName);
            try {
                s = streaming(k).newEncryptingStream(s, objectName.getBytes(StandardCharsets.UTF_8));
            } catch (GeneralSecurityException e) {
                throw new IOException("cannot encrypt " + objectName + ": " + e.getMessage(), e);
            }
        }
        if (encoding.compressed()) {
            s = new ZstdOutputStream(s, 3);
        }
        return s;
    }

    /** Wraps {@code stored} so that reading the result gives the plain bytes; a wrong key is named before reading. */
    public InputStream decoder(InputStream stored, Encoding encoding, String objectName) throws IOException {
        InputStream s = stored;
        if (encoding.encrypted()) {
            BackupKey k = keyFor(encoding, objectName);
            try {
                s = streaming(k).newDecryptingStream(s, objectName.getBytes(StandardCharsets.UTF_8));
            } catch (GeneralSecurityException e) {
                throw new IOException("cannot decrypt " + objectName + ": " + e.getMessage(), e);
            }
            s = new NamingInputStream(s, objectName);
        }
        if (encoding.compressed()) {
            s = new ZstdInputStream(s);
        }
        return s;
    }

    private BackupKey keyFor(Encoding encoding, String objectName) throws IOException {
        if (key.isEmpty()) {
            throw new WrongKeyException(encoding.encrypted()
                    ? objectName + " is encrypted (key " + encoding.keyFingerprint() + "); give the backup key (--key-file or --key-env)"
                    : objectName + " needs no key");
        }
        if (encoding.encrypted() && !key.get().fingerprint().equals(encoding.keyFingerprint())) {
            throw new WrongKeyException("wrong backup key: " + objectName + " was encrypted with key " + encoding.keyFingerprint()
                    + ", the key given is " + key.get().fingerprint());
        }
        return key.get();
    }

    private static AesGcmHkdfStreaming streaming(BackupKey k) throws GeneralSecurityException {
        return new AesGcmHkdfStreaming(k.bytes(), "HmacSha256", 32, SEGMENT, 0);
    }

    /** A digest kept while bytes pass: what a manifest records of a file. */
    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String hex(MessageDigest digest) {
        return HexFormat.of().formatHex(digest.digest());
    }

    /** Reads {@code in} to its end, returning the sha256 and count of the bytes read. */
    public static Digested drain(InputStream in) throws IOException {
        MessageDigest sha = sha256();
        byte[] buf = new byte[256 * 1024];
        long n = 0;
        try (DigestInputStream d = new DigestInputStream(in, sha)) {
            for (int r; (r = d.read(buf)) > 0; ) {
                n += r;
            }
        }
        return new Digested(hex(sha), n);
    }

    public record Digested(String sha256, long size) {
    }

    /** An output stream that counts what passes. */
    public static final class CountingOutputStream extends FilterOutputStream {
        private long count;

        public CountingOutputStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }

        public long count() {
            return count;
        }
    }

    /** Says which object failed to authenticate, instead of Tink's bare message. */
    private static final class NamingInputStream extends java.io.FilterInputStream {
        private final String name;

        NamingInputStream(InputStream in, String name) {
            super(in);
            this.name = name;
        }

        @Override
        public int read() throws IOException {
            try {
                return super.read();
            } catch (IOException e) {
                throw new IOException(name + " is corrupted or was changed (it does not authenticate): " + e.getMessage(), e);
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return super.read(b, off, len);
            } catch (IOException e) {
                throw new IOException(name + " is corrupted or was changed (it does not authenticate): " + e.getMessage(), e);
            }
        }
    }
}
