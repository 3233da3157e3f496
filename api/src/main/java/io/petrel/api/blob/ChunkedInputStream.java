package io.petrel.api.blob;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.function.Function;

import static java.util.Objects.requireNonNull;

/** A blob's bytes, one chunk in memory at a time, fetched when the reader gets to it. */
final class ChunkedInputStream extends InputStream {
    private final List<String> chunks;
    private final Function<String, byte[]> fetch;
    private int next;
    private byte[] current = new byte[0];
    private int pos;

    ChunkedInputStream(List<String> chunks, Function<String, byte[]> fetch) {
        this.chunks = requireNonNull(chunks, "chunks");
        this.fetch = requireNonNull(fetch, "fetch");
    }

    private boolean fill() throws IOException {
        while (pos == current.length) {
            if (next == chunks.size()) {
                return false;
            }
            try {
                current = fetch.apply(chunks.get(next++));
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
            pos = 0;
        }
        return true;
    }

    @Override
    public int read() throws IOException {
        return fill() ? current[pos++] & 0xff : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (!fill()) {
            return -1;
        }
        int n = Math.min(len, current.length - pos);
        System.arraycopy(current, pos, b, off, n);
        pos += n;
        return n;
    }
}
