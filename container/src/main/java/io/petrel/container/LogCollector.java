package io.petrel.container;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * The log lines of one activation, kept up to its limit. Lines are OpenWhisk's {@code "<time> <stream>: <text>"}:
 * OpenWhisk pads the time to 30 characters and adds a space; our times always have nine fraction digits, which
 * is exactly 30 characters, so there is one space (OpenWhisk's docs show two because Docker's times drop
 * trailing zeros). Thread safe: stdout and stderr are read by two threads.
 */
final class LogCollector {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSSSSS'Z'")
            .withZone(ZoneOffset.UTC);

    private record Line(String text, long textBytes) {}

    private final long limitBytes;
    private final List<Line> lines = new ArrayList<>();
    private long bytes;
    private boolean truncated;

    LogCollector(long limitBytes) {
        if (limitBytes < 0) {
            throw new IllegalArgumentException("limitBytes must not be negative: " + limitBytes);
        }
        this.limitBytes = limitBytes;
    }

    static String format(Instant time, LogStream stream, String text) {
        return TIME.format(time) + " " + stream.label() + ": " + text;
    }

    /** Whether a line would still be kept: once the limit is passed, readers only drain. */
    synchronized boolean accepting() {
        return !truncated;
    }

    /** Adds a line of {@code textBytes} bytes; past the limit it is dropped and the logs are marked truncated. */
    synchronized void add(String line, long textBytes) {
        if (truncated) {
            return;
        }
        if (bytes + textBytes > limitBytes) {
            truncated = true;
            return;
        }
        bytes += textBytes;
        lines.add(new Line(line, textBytes));
    }

    /**
     * Takes over what {@code earlier} kept (lines printed before this activation started: at init, or after the
     * previous activation's end), counting them against this activation's limit.
     */
    synchronized void carryOver(LogCollector earlier) {
        List<Line> carried;
        boolean earlierTruncated;
        synchronized (earlier) {
            carried = List.copyOf(earlier.lines);
            earlierTruncated = earlier.truncated;
        }
        for (Line line : carried) {
            add(line.text(), line.textBytes());
        }
        truncated |= earlierTruncated;
    }

    /** The lines, with OpenWhisk's notes when they were cut or their end was not seen. */
    synchronized List<String> finish(boolean endMissing) {
        List<String> result = new ArrayList<>(lines.size() + 2);
        lines.forEach(line -> result.add(line.text()));
        if (truncated) {
            result.add(format(Instant.now(), LogStream.STDERR, Messages.truncatedLogs(limitBytes)));
        }
        if (endMissing) {
            result.add(format(Instant.now(), LogStream.STDERR, Messages.LOG_FAILURE));
        }
        return result;
    }
}
