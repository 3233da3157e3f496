package io.petrel.container;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static java.util.Objects.requireNonNull;

/**
 * Drains one of a container's output streams for as long as it is open, cutting it into lines. It never stops
 * reading (a full pipe would block the action) and never holds more than one line: a line longer than
 * {@link #MAX_LINE} bytes is passed on in pieces, cut between UTF-8 characters.
 */
final class StreamPump implements Runnable {
    static final int MAX_LINE = 64 * 1024;
    static final byte[] MARKER = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX".getBytes(StandardCharsets.US_ASCII);

    interface Sink {
        /** A line (without its newline); the bytes are only valid during the call. */
        void line(LogStream stream, byte[] bytes, int offset, int length);

        /** The launcher's end-of-activation marker. */
        void marker(LogStream stream);

        void ended(LogStream stream);
    }

    private final InputStream in;
    private final LogStream stream;
    private final Sink sink;

    StreamPump(InputStream in, LogStream stream, Sink sink) {
        this.in = requireNonNull(in, "in");
        this.stream = requireNonNull(stream, "stream");
        this.sink = requireNonNull(sink, "sink");
    }

    @Override
    public void run() {
        byte[] buffer = new byte[MAX_LINE];
        int length = 0;
        int scanned = 0;
        try (in) {
            int n;
            while ((n = in.read(buffer, length, buffer.length - length)) > 0) {
                length += n;
                int start = 0;
                for (int i = scanned; i < length; i++) {
                    if (buffer[i] == '\n') {
                        emit(buffer, start, i);
                        start = i + 1;
                    }
                }
                if (start == 0 && length == buffer.length) {
                    int cut = utf8Boundary(buffer, length);
                    sink.line(stream, buffer, 0, cut);
                    start = cut;
                }
                System.arraycopy(buffer, start, buffer, 0, length - start);
                length -= start;
                scanned = length;
            }
        }
        catch (IOException e) {
            // The process is gone and its pipe with it.
        }
        finally {
            if (length > 0) {
                emit(buffer, 0, length);
            }
            sink.ended(stream);
        }
    }

    private void emit(byte[] buffer, int start, int end) {
        int stop = end > start && buffer[end - 1] == '\r' ? end - 1 : end;
        if (stop - start == MARKER.length && Arrays.equals(buffer, start, stop, MARKER, 0, MARKER.length)) {
            sink.marker(stream);
        }
        else {
            sink.line(stream, buffer, start, stop - start);
        }
    }

    // The largest cut at or before `length` that does not split a UTF-8 sequence.
    private static int utf8Boundary(byte[] buffer, int length) {
        for (int p = length - 1; p >= Math.max(1, length - 4); p--) {
            int c = buffer[p] & 0xFF;
            if ((c & 0xC0) != 0x80) {
                int needed = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
                return p + needed <= length ? length : p;
            }
        }
        return length;
    }
}
