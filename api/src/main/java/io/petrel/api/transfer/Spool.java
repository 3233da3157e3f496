package io.petrel.api.transfer;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static java.util.Objects.requireNonNull;

/**
 * A temporary file that small values are appended to and read back from, so that an export can
 * know every entry's digest before it writes its manifest without holding a namespace in memory.
 */
final class Spool implements Closeable {
    private final Path file;
    private final OutputStream out;
    private long size;
    private FileChannel reader;

    private Spool(Path file) throws IOException {
        this.file = file;
        this.out = new BufferedOutputStream(Files.newOutputStream(file, StandardOpenOption.WRITE), 64 * 1024);
    }

    static Spool create(Path dir) throws IOException {
        requireNonNull(dir, "dir");
        Files.createDirectories(dir);
        return new Spool(Files.createTempFile(dir, "petrel-export-", ".spool"));
    }

    /** Appends {@code bytes}; returns where they start. */
    long append(byte[] bytes) throws IOException {
        if (reader != null) {
            throw new IllegalStateException("the spool is being read");
        }
        long at = size;
        out.write(bytes);
        size += bytes.length;
        return at;
    }

    /** The {@code length} bytes at {@code offset}; appending ends with the first read. */
    InputStream open(long offset, long length) throws IOException {
        if (reader == null) {
            out.close();
            reader = FileChannel.open(file, StandardOpenOption.READ);
        }
        FileChannel ch = reader;
        return new InputStream() {
            private long pos = offset;
            private final long end = offset + length;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (pos >= end) {
                    return -1;
                }
                int n = ch.read(ByteBuffer.wrap(b, off, (int) Math.min(len, end - pos)), pos);
                if (n < 0) {
                    throw new IOException("the export's spool file " + file + " ended early");
                }
                pos += n;
                return n;
            }
        };
    }

    @Override
    public void close() throws IOException {
        try {
            if (reader != null) {
                reader.close();
            } else {
                out.close();
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
