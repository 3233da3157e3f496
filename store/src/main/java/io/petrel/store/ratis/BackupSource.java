package io.petrel.store.ratis;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * What one zone's replica offers the backups: a consistent copy of its state with its exact log
 * position, its journal of applied entries (kept by every replica until archived, so whichever zone
 * archives after a leader change finds what it needs), and a replicated record of how far the
 * archive goes.
 */
public interface BackupSource {
    String region();

    String clusterId();

    String zone();

    /** Whether this zone leads now (the zone that leads takes the backups). */
    boolean leads();

    long currentTerm();

    long appliedIndex();

    /** The replicated archive position: every entry up to it is in the archive. */
    long archivedIndex();

    /** The highest index this replica dropped from its journal before it was archived (0: none). */
    long journalDropped();

    JournalRead readJournal(long fromIndex, int maxEntries, long maxBytes);

    /** Writes a checkpoint of the live state into {@code target} (must not exist, same disk is cheapest). */
    StatePosition checkpoint(Path target) throws IOException;

    /**
     * Records, through consensus, that the archive holds every entry up to {@code index}; every
     * replica then drops its journal up to there. Throws if no quorum confirms it within {@code timeout}.
     */
    void markArchived(long index, Duration timeout) throws IOException;
}
