package io.petrel.backup;

import java.time.Instant;

import static java.util.Objects.requireNonNull;

/** What a restore brings back: the newest archived state, the state at a log index, or at a moment. */
public sealed interface RestorePoint {
    record Latest() implements RestorePoint {
        @Override
        public String toString() {
            return "the latest archived point";
        }
    }

    record AtIndex(long index) implements RestorePoint {
        public AtIndex {
            if (index < 0) {
                throw new IllegalArgumentException("a log index is not negative: " + index);
            }
        }

        @Override
        public String toString() {
            return "log index " + index;
        }
    }

    /** The state after every entry committed at or before {@code time} (on the region's replicated clock). */
    record AtTime(Instant time) implements RestorePoint {
        public AtTime {
            requireNonNull(time, "time");
        }

        @Override
        public String toString() {
            return "time " + time;
        }
    }
}
