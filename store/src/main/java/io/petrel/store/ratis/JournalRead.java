package io.petrel.store.ratis;

import java.util.List;

/**
 * Part of a replica's journal: the entries read, and the first and last index the journal holds now
 * ({@code -1} when it is empty). A first index above the one asked for means entries were dropped
 * unarchived (the journal outgrew its budget): the archive has a break there.
 */
public record JournalRead(long firstHeld, long lastHeld, List<JournalEntry> entries) {
    public JournalRead {
        entries = List.copyOf(entries);
    }
}
