package io.petrel.backup;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.petrel.backup.format.ObjectCodec;
import io.petrel.backup.format.SegmentManifest;
import io.petrel.backup.format.SnapshotManifest;
import io.petrel.backup.target.BackupTarget;
import io.petrel.backup.target.ObjectInfo;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import static java.util.Objects.requireNonNull;

/**
 * The backups in one target, as manifests: reads and writes them and opens the objects they name.
 * Manifests are plain JSON (they hold positions, sizes and digests, never tenant data), so listing
 * needs no key.
 */
public final class BackupRepository implements AutoCloseable {
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private final BackupTarget target;
    private final ObjectCodec codec;

    public BackupRepository(BackupTarget target, ObjectCodec codec) {
        this.target = requireNonNull(target, "target");
        this.codec = requireNonNull(codec, "codec");
    }

    public BackupTarget target() {
        return target;
    }

    public ObjectCodec codec() {
        return codec;
    }

    /** Every cluster that has backups here. */
    public List<String> clusters() throws IOException {
        TreeSet<String> found = new TreeSet<>();
        for (ObjectInfo o : target.list(BackupLayout.clusters())) {
            BackupLayout.clusterOf(o.name()).ifPresent(found::add);
        }
        return List.copyOf(found);
    }

    public List<SnapshotManifest> snapshots(String cluster) throws IOException {
        List<SnapshotManifest> out = new ArrayList<>();
        for (ObjectInfo o : target.list(BackupLayout.snapshots(cluster))) {
            if (o.name().endsWith(".json")) {
                out.add(read(o.name(), SnapshotManifest.class));
            }
        }
        out.sort(Comparator.comparingLong(SnapshotManifest::index));
        return out;
    }

    public List<SnapshotManifest> pendingSnapshots(String cluster) throws IOException {
        List<SnapshotManifest> out = new ArrayList<>();
        for (ObjectInfo o : target.list(BackupLayout.pending(cluster))) {
            if (o.name().endsWith(".json")) {
                out.add(read(o.name(), SnapshotManifest.class));
            }
        }
        return out;
    }

    public List<SegmentManifest> segments(String cluster) throws IOException {
        List<SegmentManifest> out = new ArrayList<>();
        for (ObjectInfo o : target.list(BackupLayout.log(cluster))) {
            if (o.name().endsWith(".json")) {
                out.add(read(o.name(), SegmentManifest.class));
            }
        }
        out.sort(Comparator.comparingLong(SegmentManifest::firstIndex).thenComparingLong(SegmentManifest::lastIndex));
        return out;
    }

    /** The highest archived index among the segment names, without reading them (-1 if none). */
    public long lastArchivedIndex(String cluster) throws IOException {
        long last = -1;
        for (ObjectInfo o : target.list(BackupLayout.log(cluster))) {
            var range = BackupLayout.segmentRange(o.name());
            if (range.isPresent()) {
                last = Math.max(last, range.get()[1]);
            }
        }
        return last;
    }

    public List<BreakRecord> breaks(String cluster) throws IOException {
        List<BreakRecord> out = new ArrayList<>();
        for (ObjectInfo o : target.list(BackupLayout.breaks(cluster))) {
            out.add(read(o.name(), BreakRecord.class));
        }
        out.sort(Comparator.comparingLong(BreakRecord::lastArchived));
        return out;
    }

    /** A stretch of the log lost unarchived: restore points after {@code lastArchived} and before {@code resumedAt} do not exist. */
    public record BreakRecord(long lastArchived, long resumedAt, long detectedAt, String reason) {
    }

    public <T> T read(String name, Class<T> type) throws IOException {
        byte[] bytes;
        try (InputStream in = target.get(name)) {
            bytes = in.readAllBytes();
        }
        try {
            return JSON.readValue(bytes, type);
        } catch (JsonProcessingException e) {
            throw new IOException("backup manifest " + name + " in " + target.describe() + " is corrupted: " + e.getOriginalMessage(), e);
        }
    }

    public void write(String name, Object manifest) throws IOException {
        target.put(name, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(manifest));
    }

    public static ObjectMapper json() {
        return JSON.copy();
    }

    /** For reports: a map as JSON. */
    public static String toJson(Map<String, ?> value) {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() throws IOException {
        target.close();
    }
}
