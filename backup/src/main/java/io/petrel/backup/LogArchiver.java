package io.petrel.backup;

import io.petrel.backup.format.Encoding;
import io.petrel.backup.format.ObjectCodec;
import io.petrel.backup.format.SegmentManifest;
import io.petrel.backup.format.Segments;
import io.petrel.store.ratis.BackupSource;
import io.petrel.store.ratis.JournalEntry;
import io.petrel.store.ratis.JournalRead;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Ships the applied log to the archive: the entries after the replicated archive position, as one
 * segment named by its index range, then the new position through consensus. Whichever zone leads
 * does it; a new leader starts where the replicated position says, so a leader change leaves no gap,
 * and an overlap (an old leader's upload that it could not record) holds the same entries under
 * another name, which a restore reads once.
 */
public final class LogArchiver {
    private static final int MAX_ENTRIES = 50_000;
    private static final long MAX_BYTES = 64L * 1024 * 1024;

    private final BackupRepository repository;
    private final Path workDir;
    private final Clock clock;

    public LogArchiver(BackupRepository repository, Path workDir, Clock clock) {
        this.repository = requireNonNull(repository, "repository");
        this.workDir = requireNonNull(workDir, "workDir");
        this.clock = requireNonNull(clock, "clock");
    }

    /** What one pass did. */
    public sealed interface Outcome {
        /** Nothing to archive (or only bookkeeping entries, which wait for the next real write). */
        record UpToDate(long archivedIndex) implements Outcome {
        }

        record Archived(SegmentManifest segment) implements Outcome {
        }

        /** Entries after {@code archivedIndex} are gone from the journal: the window breaks; a new snapshot must follow. */
        record Break(long archivedIndex, long firstHeld) implements Outcome {
        }
    }

    /** Archives what is there, in segments, until caught up; returns the last outcome. */
    public Outcome archive(BackupSource source) throws IOException {
        Outcome last;
        do {
            last = archiveOnce(source);
        } while (last instanceof Outcome.Archived a && a.segment().entries() >= MAX_ENTRIES);
        return last;
    }

    Outcome archiveOnce(BackupSource source) throws IOException {
        long archived = source.archivedIndex();
        long from = archived + 1;
        JournalRead read = source.readJournal(from, MAX_ENTRIES, MAX_BYTES);
        List<JournalEntry> entries = read.entries();
        if (entries.isEmpty()) {
            if (read.firstHeld() > from || (read.firstHeld() < 0 && source.journalDropped() >= from)) {
                return new Outcome.Break(archived, read.firstHeld());
            }
            return new Outcome.UpToDate(archived);
        }
        if (entries.getFirst().index() != from) {
            return new Outcome.Break(archived, entries.getFirst().index());
        }
        if (entries.stream().allMatch(JournalEntry::bookkeeping)) {
            return new Outcome.UpToDate(archived);
        }
        String cluster = BackupLayout.clusterName(source.clusterId());
        long first = entries.getFirst().index();
        long lastIndex = entries.getLast().index();
        String object = BackupLayout.segment(cluster, first, lastIndex);
        Encoding encoding = repository.codec().encoding(true);
        Files.createDirectories(workDir);
        Path tmp = workDir.resolve("segment-" + first + ".tmp");
        MessageDigest sha = ObjectCodec.sha256();
        long plainSize;
        try {
            try (ObjectCodec.CountingOutputStream counted = new ObjectCodec.CountingOutputStream(new DigestOutputStream(
                    repository.codec().encoder(Files.newOutputStream(tmp), encoding, object), sha))) {
                Segments.write(entries, counted);
                plainSize = counted.count();
            }
            long storedSize = Files.size(tmp);
            repository.target().put(object, tmp);
            SegmentManifest manifest = new SegmentManifest(SegmentManifest.FORMAT, source.region(), source.clusterId(), source.zone(),
                    first, lastIndex, entries.getFirst().term(), entries.getLast().term(), entries.getFirst().time(),
                    entries.getLast().time(), entries.size(), entries.getLast().revision(), ObjectCodec.hex(sha), plainSize, object,
                    storedSize, encoding, clock.millis());
            repository.write(BackupLayout.segmentManifest(cluster, first, lastIndex), manifest);
            source.markArchived(lastIndex, Duration.ofSeconds(10));
            return new Outcome.Archived(manifest);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
