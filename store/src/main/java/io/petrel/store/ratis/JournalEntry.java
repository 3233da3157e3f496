package io.petrel.store.ratis;

import static java.util.Objects.requireNonNull;

/**
 * One applied log entry as the backup archive keeps it: its position, the store revision after it, its
 * time on the replicated clock, and its data exactly as it is in the Raft log (empty for the leader's
 * no-op and configuration entries, which change no data). {@code bookkeeping} entries change no data
 * (no-ops, and the archive's own position records): archiving them can wait for the next real write.
 */
public record JournalEntry(long term, long index, long revision, long time, byte[] logData, boolean bookkeeping) {
    public JournalEntry {
        requireNonNull(logData, "logData");
        if (index <= 0 || term < 0) {
            throw new IllegalArgumentException("bad journal position term " + term + " index " + index);
        }
    }

    public boolean changesNothing() {
        return logData.length == 0;
    }
}
