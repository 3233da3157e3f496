package io.petrel.cli.dr;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.petrel.backup.BackupLayout;
import io.petrel.backup.BackupRepository;
import io.petrel.backup.Restorer;
import io.petrel.backup.format.SegmentManifest;
import io.petrel.cli.local.RegionLayout;
import io.petrel.cli.local.ZoneSpec;
import io.petrel.store.ratis.JournalEntry;
import io.petrel.store.ratis.StateImage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The writes a lost primary had applied after the point its successor took over from: applied (so
 * possibly acknowledged) but never archived, so the new primary does not have them. Read from the most
 * advanced zone's journal, which keeps every entry until the archive takes it; reported, never dropped
 * silently.
 */
public final class LostWrites {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private LostWrites() {
    }

    public record Write(long index, long term, String time, List<String> keys) {
    }

    public record Report(String region, String cluster, long takenOverAt, long lastApplied, List<Write> writes) {
    }

    /**
     * The writes of {@code old} after entry {@code takenOverAt} of its cluster; its zones must be stopped.
     * A demoted region goes on archiving what it applied, so the entries are looked for both in its
     * archive ({@code repository}) and in its zones' journals.
     */
    public static Report find(RegionLayout old, long takenOverAt, BackupRepository repository) throws IOException {
        java.util.TreeMap<Long, JournalEntry> entries = new java.util.TreeMap<>();
        String cluster = BackupLayout.clusterName(old.clusterId());
        Restorer reader = new Restorer(repository);
        for (SegmentManifest segment : repository.segments(cluster)) {
            if (segment.lastIndex() >= takenOverAt) {
                for (JournalEntry e : reader.fetchSegment(segment)) {
                    if (e.index() >= takenOverAt) {
                        entries.putIfAbsent(e.index(), e);
                    }
                }
            }
        }
        Path best = null;
        long bestIndex = -1;
        for (ZoneSpec z : old.zones()) {
            Path state = z.dataDir().resolve("state");
            if (!Files.isDirectory(state)) {
                continue;
            }
            try (StateImage image = StateImage.openReadOnly(state)) {
                if (image.position().index() > bestIndex) {
                    bestIndex = image.position().index();
                    best = state;
                }
            } catch (IOException | RuntimeException e) {
                // A zone whose state cannot be opened adds nothing; the others may.
            }
        }
        if (best != null) {
            try (StateImage image = StateImage.openReadOnly(best)) {
                for (JournalEntry e : image.journalFrom(takenOverAt)) {
                    entries.putIfAbsent(e.index(), e);
                }
            }
        }
        List<Write> writes = new ArrayList<>();
        long revisionBefore = entries.containsKey(takenOverAt) ? entries.get(takenOverAt).revision() : -1;
        for (JournalEntry e : entries.tailMap(takenOverAt, false).values()) {
            // An entry that left the revision as it was changed nothing: its writes were refused (the region no longer took writes).
            boolean changed = revisionBefore < 0 || e.revision() != revisionBefore;
            revisionBefore = e.revision();
            if (!changed) {
                continue;
            }
            List<String> keys = StateImage.keysWritten(e);
            if (!keys.isEmpty()) {
                writes.add(new Write(e.index(), e.term(), Instant.ofEpochMilli(e.time()).toString(), keys));
            }
        }
        return new Report(old.region(), old.clusterId(), takenOverAt, bestIndex, writes);
    }

    public static Path save(Report report, Path dir) throws IOException {
        Path file = dir.resolve("lost-writes-" + Instant.now().toString().replace(':', '-') + ".json");
        JSON.writeValue(file.toFile(), report);
        return file;
    }
}
