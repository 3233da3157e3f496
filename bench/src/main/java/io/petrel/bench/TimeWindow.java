package io.petrel.bench;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

import static java.util.Objects.requireNonNull;

/**
 * When a phase was measured, by the wall clock: the servers' logs (snapshots, elections, compactions)
 * are stamped with it, so a reader can tell which phase met which event.
 */
record TimeWindow(Instant start, Instant end) {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneOffset.UTC);

    TimeWindow {
        requireNonNull(start, "start");
        requireNonNull(end, "end");
    }

    @Override
    public String toString() {
        return TIME.format(start) + "-" + TIME.format(end) + " UTC";
    }
}
