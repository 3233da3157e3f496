package io.petrel.backup;

import com.github.luben.zstd.Zstd;
import io.petrel.backup.format.Encoding;
import io.petrel.backup.format.ObjectCodec;
import io.petrel.backup.format.SnapshotManifest;
import io.petrel.store.ratis.BackupSource;
import io.petrel.store.ratis.StateImage;
import io.petrel.store.ratis.StatePosition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import static java.util.Objects.requireNonNull;

/**
 * Takes a full snapshot into the backup target without stopping writes: a RocksDB checkpoint (hard
 * links, taken between two applied entries), whose files are uploaded by content. A table file
 * already in the target (every unchanged one: table files never change) is not uploaded again.
 */
public final class SnapshotWriter {
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotWriter.class);
    private static final int SAMPLE = 256 * 1024;

    private final BackupRepository repository;
    private final Path workDir;
    private final Clock clock;
    /** Table files never change, so their digests are remembered by name and size between snapshots. */
    private final Map<String, String> tableDigests = new ConcurrentHashMap<>();

    public SnapshotWriter(BackupRepository repository, Path workDir, Clock clock) {
        this.repository = requireNonNull(repository, "repository");
        this.workDir = requireNonNull(workDir, "workDir");
        this.clock = requireNonNull(clock, "clock");
    }

    /** What one snapshot did: its manifest, and how much it uploaded (the rest was there already). */
    public record Result(SnapshotManifest manifest, long uploadedBytes, int uploadedFiles, long millis) {
    }

    public Result write(BackupSource source, long breakAfter, Progress progress) throws IOException {
        long started = System.nanoTime();
        Files.createDirectories(workDir);
        Path checkpoint = workDir.resolve("checkpoint-" + System.currentTimeMillis());
        deleteRecursively(checkpoint);
        StatePosition at = source.checkpoint(checkpoint);
        try {
            String cluster = BackupLayout.clusterName(source.clusterId());
            List<Path> files = files(checkpoint);
            long total = 0;
            for (Path f : files) {
                total += Files.size(f);
            }
            ObjectCodec codec = repository.codec();
            List<SnapshotManifest.FileEntry> entries = new ArrayList<>();
            for (Path f : files) {
                String name = f.getFileName().toString();
                long size = Files.size(f);
                String sha = digestOf(f, name, size);
                Encoding encoding = codec.encoding(worthCompressing(f, name));
                entries.add(new SnapshotManifest.FileEntry(name, size, sha, BackupLayout.file(sha, encoding.tag()), -1, encoding));
            }
            Encoding base = codec.encoding(true);
            SnapshotManifest pending = new SnapshotManifest(SnapshotManifest.FORMAT, source.region(), source.clusterId(), source.zone(),
                    at.term(), at.index(), at.revision(), at.clock(), clock.millis(), -1, "pending", base, entries, breakAfter);
            // Prune must not collect the files of a snapshot still being written.
            repository.write(BackupLayout.pending(cluster, at.index()), pending);
            long uploaded = 0;
            int uploadedFiles = 0;
            long done = 0;
            List<SnapshotManifest.FileEntry> stored = new ArrayList<>();
            for (int i = 0; i < files.size(); i++) {
                Path f = files.get(i);
                SnapshotManifest.FileEntry e = entries.get(i);
                var existing = repository.target().stat(e.object());
                long storedSize;
                if (existing.isPresent()) {
                    storedSize = existing.get().size();
                } else {
                    storedSize = upload(f, e.object(), e.encoding());
                    uploaded += e.size();
                    uploadedFiles++;
                }
                stored.add(new SnapshotManifest.FileEntry(e.name(), e.size(), e.sha256(), e.object(), storedSize, e.encoding()));
                done += e.size();
                progress.update("snapshot", done, total);
            }
            long keys;
            String digest;
            // Opening the checkpoint changes its folder (a new manifest, a log), so it is read only after the upload.
            try (StateImage image = StateImage.open(checkpoint)) {
                keys = image.keyCount();
                digest = image.digest();
            }
            SnapshotManifest manifest = new SnapshotManifest(SnapshotManifest.FORMAT, source.region(), source.clusterId(), source.zone(),
                    at.term(), at.index(), at.revision(), at.clock(), pending.takenAt(), keys, digest, base, stored, breakAfter);
            repository.write(BackupLayout.snapshot(cluster, at.index()), manifest);
            repository.target().delete(BackupLayout.pending(cluster, at.index()));
            long millis = (System.nanoTime() - started) / 1_000_000;
            LOG.info("zone {}: backup snapshot at term {} index {} (revision {}, {} keys, {} bytes in {} files) written to {} in {} ms; "
                            + "uploaded {} bytes in {} files, the rest was there", source.zone(), at.term(), at.index(), at.revision(), keys,
                    total, files.size(), repository.target().describe(), millis, uploaded, uploadedFiles);
            return new Result(manifest, uploaded, uploadedFiles, millis);
        } finally {
            deleteRecursively(checkpoint);
        }
    }

    private long upload(Path file, String object, Encoding encoding) throws IOException {
        if (!encoding.compressed() && !encoding.encrypted()) {
            repository.target().put(object, file);
            return Files.size(file);
        }
        Path tmp = workDir.resolve("upload-" + Thread.currentThread().threadId() + "-" + file.getFileName());
        try {
            try (InputStream in = Files.newInputStream(file);
                 OutputStream out = repository.codec().encoder(Files.newOutputStream(tmp), encoding, object)) {
                in.transferTo(out);
            }
            repository.target().put(object, tmp);
            return Files.size(tmp);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private String digestOf(Path f, String name, long size) throws IOException {
        boolean table = name.endsWith(".sst");
        String cacheKey = name + "/" + size;
        if (table) {
            String known = tableDigests.get(cacheKey);
            if (known != null) {
                return known;
            }
        }
        MessageDigest sha = ObjectCodec.sha256();
        try (InputStream in = new DigestInputStream(Files.newInputStream(f), sha)) {
            in.transferTo(OutputStream.nullOutputStream());
        }
        String hex = ObjectCodec.hex(sha);
        if (table) {
            tableDigests.put(cacheKey, hex);
        }
        return hex;
    }

    /** Table files are compressed by RocksDB already: zstd is spent only where a sample shrinks by a tenth. */
    private static boolean worthCompressing(Path f, String name) throws IOException {
        byte[] sample;
        try (InputStream in = Files.newInputStream(f)) {
            sample = in.readNBytes(SAMPLE);
        }
        if (sample.length < 4096) {
            return true;
        }
        return Zstd.compress(sample, 1).length < sample.length * 9L / 10;
    }

    static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
