package io.petrel.container;

import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * Reads the launcher's answers, one JSON line each, from the FIFO that is the launcher's fd 3 (Java cannot hand a
 * child a fourth pipe, so the container's shell opens a FIFO in the work directory as fd 3 before it execs).
 * A line is kept up to {@link #MAX_KEPT} bytes; beyond that only its length is counted, which is all an
 * over-limit result needs.
 */
final class AnswerReader implements Runnable {
    // Four times the result limit: a result under the limit always fits, even with ensure_ascii-style escapes.
    static final int MAX_KEPT = 4 << 20;

    /** One line; {@code bytes} is its start when {@code totalBytes} is larger. */
    record Line(byte[] bytes, long totalBytes) {
        boolean complete() {
            return bytes.length == totalBytes;
        }
    }

    interface Sink {
        void answer(Line line);

        void ended();
    }

    private final Path fifo;
    private final Sink sink;
    private final CountDownLatch ended = new CountDownLatch(1);
    private volatile boolean opened;

    AnswerReader(Path fifo, Sink sink) {
        this.fifo = requireNonNull(fifo, "fifo");
        this.sink = requireNonNull(sink, "sink");
    }

    @Override
    public void run() {
        try (InputStream in = new FileInputStream(fifo.toFile())) {
            opened = true;
            // Both ends are open now: the name is no longer needed, and without it the action cannot reopen it.
            Files.deleteIfExists(fifo);
            read(in);
        }
        catch (IOException e) {
            // The FIFO is gone (the container was closed before it started): no answers will come.
        }
        finally {
            sink.ended();
            ended.countDown();
        }
    }

    /**
     * Opening a FIFO blocks until its other end is opened: if the process died before its shell opened fd 3, open
     * the write end ourselves so that {@link #run} wakes up, sees the end, and returns.
     */
    void unblock() {
        if (opened || ended.getCount() == 0) {
            return;
        }
        Thread.ofVirtual().name("unblock-" + fifo.getParent().getFileName()).start(() -> {
            try (FileOutputStream ignored = new FileOutputStream(fifo.toFile())) {
                // Closing it is the point.
            }
            catch (IOException e) {
                // The reader already opened and deleted it.
            }
        });
    }

    boolean awaitEnd(Duration timeout) {
        try {
            return ended.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void read(InputStream in) throws IOException {
        byte[] chunk = new byte[64 * 1024];
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        long total = 0;
        int n;
        while ((n = in.read(chunk)) > 0) {
            int start = 0;
            for (int i = 0; i < n; i++) {
                if (chunk[i] == '\n') {
                    total += keep(line, chunk, start, i - start);
                    sink.answer(new Line(line.toByteArray(), total));
                    line.reset();
                    total = 0;
                    start = i + 1;
                }
            }
            total += keep(line, chunk, start, n - start);
        }
        if (total > 0) {
            sink.answer(new Line(line.toByteArray(), total));
        }
    }

    private static int keep(ByteArrayOutputStream line, byte[] chunk, int offset, int length) {
        int room = MAX_KEPT - line.size();
        line.write(chunk, offset, Math.min(room, length));
        return length;
    }
}
