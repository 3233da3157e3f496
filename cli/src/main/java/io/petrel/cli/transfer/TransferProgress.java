package io.petrel.cli.transfer;

import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * Bytes done of a long transfer, on the error stream: a line at most every second while it runs
 * ({@code export acme: 12.3 of 50.3 MB (24%), 10.1 MB/s}), and one when it ends. Counting may happen
 * on the HTTP client's threads, so the count is atomic.
 */
public final class TransferProgress {
    private static final long EVERY_NANOS = 1_000_000_000L;
    private final String label;
    private final PrintWriter err;
    private final LongSupplier nanos;
    private final AtomicLong done = new AtomicLong();
    private final AtomicLong lastPrint = new AtomicLong();
    private volatile long total = -1;
    private volatile long started;

    public TransferProgress(String label, PrintWriter err, LongSupplier nanos) {
        this.label = requireNonNull(label, "label");
        this.err = requireNonNull(err, "err");
        this.nanos = requireNonNull(nanos, "nanos");
    }

    /** Starts counting; {@code total} is the expected number of bytes, or -1 if unknown. */
    public void start(long total) {
        this.total = total;
        this.started = nanos.getAsLong();
        this.lastPrint.set(started);
        this.done.set(0);
    }

    void add(long n) {
        long now = done.addAndGet(n);
        long t = nanos.getAsLong();
        long last = lastPrint.get();
        if (t - last >= EVERY_NANOS && lastPrint.compareAndSet(last, t)) {
            print(now, t, false);
        }
    }

    public long done() {
        return done.get();
    }

    /** The last line: how much, how long, how fast. */
    public void finish() {
        print(done.get(), nanos.getAsLong(), true);
    }

    private synchronized void print(long bytes, long at, boolean end) {
        double seconds = Math.max(1e-3, (at - started) / 1e9);
        String rate = String.format(Locale.ROOT, "%.1f MB/s", bytes / 1e6 / seconds);
        if (end) {
            err.printf(Locale.ROOT, "%s: %s in %.1f s (%s)%n", label, mb(bytes), seconds, rate);
        } else if (total > 0) {
            err.printf(Locale.ROOT, "%s: %s of %s (%d%%), %s%n", label, mb(bytes), mb(total), bytes * 100 / total, rate);
        } else {
            err.printf(Locale.ROOT, "%s: %s, %s%n", label, mb(bytes), rate);
        }
        err.flush();
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }

    public InputStream counting(InputStream in) {
        return new FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                int b = in.read();
                if (b >= 0) {
                    add(1);
                }
                return b;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = in.read(b, off, len);
                if (n > 0) {
                    add(n);
                }
                return n;
            }
        };
    }

    public OutputStream counting(OutputStream out) {
        return new FilterOutputStream(out) {
            @Override
            public void write(int b) throws IOException {
                out.write(b);
                add(1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
                add(len);
            }
        };
    }
}
