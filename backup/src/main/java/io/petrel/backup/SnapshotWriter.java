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
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;

import static java.util.Objects.requireNonNull;

/**
 * Takes a full snapshot into the backup target without stopping writes: a RocksDB checkpoint (hard
 * links, taken between two applied entries), whose files are uploaded by content. A table file
 * already in the target (every unchanged one: table files never change) is not uploaded again.
 */
public final class SnapshotWriter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotWriter.class);
    private static final int SAMPLE = 256 * 1024;

    private final BackupRepository repository;
    private final Path workDir;
    private final Clock clock;
    /** Table files never change, so their digests are remembered by name and size between snapshots. */
    private final Map<String, String> tableDigests = new ConcurrentHashMap<>();
    /** Two files digested at once: one thread waits on the disk while the other hashes. */
    private final ExecutorService digester = Executors.newFixedThreadPool(2, Thread.ofPlatform().daemon().name("backup-digests-", 0).factory());
    private final ExecutorService helpers = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("backup-summary").factory());

    public SnapshotWriter(BackupRepository repository, Path workDir, Clock clock) {
        this.repository = requireNonNull(repository, "repository");
        this.workDir = requireNonNull(workDir, "workDir");
        this.clock = requireNonNull(clock, "clock");
    }

    /**
     * What one snapshot did: its manifest (restorable as soon as it is written), how much it uploaded
     * (the rest was there already), and the manifest again once the key count and state digest are in
     * it ({@code complete}).
     */
    public record Result(SnapshotManifest manifest, long uploadedBytes, int uploadedFiles, long millis,
                         CompletableFuture<SnapshotManifest> complete) {
    }

    public Result write(BackupSource source, long breakAfter, Progress progress) throws IOException {
        long started = System.nanoTime();
        Files.createDirectories(workDir);
        Path checkpoint = workDir.resolve("checkpoint-" + System.currentTimeMillis());
        deleteRecursively(checkpoint);
        StatePosition at = source.checkpoint(checkpoint);
        long checkpointed = System.nanoTime();
        CompletableFuture<StateImage.Summary> summary = CompletableFuture.completedFuture(null);
        try {
            String cluster = BackupLayout.clusterName(source.clusterId());
            List<Path> files = files(checkpoint);
            long total = 0;
            for (Path f : files) {
                total += Files.size(f);
            }
            ObjectCodec codec = repository.codec();
            // Digests are computed a file ahead of the upload, so reading one file overlaps writing the one before.
            List<CompletableFuture<SnapshotManifest.FileEntry>> pending = new ArrayList<>();
            for (Path f : files) {
                pending.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        String name = f.getFileName().toString();
                        long size = Files.size(f);
                        String sha = digestOf(f, name, size);
                        Encoding encoding = codec.encoding(worthCompressing(f, name));
                        return new SnapshotManifest.FileEntry(name, size, sha, BackupLayout.file(sha, encoding.tag()), -1, encoding);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }, digester));
            }
            Encoding base = codec.encoding(true);
            long takenAt = clock.millis();
            long uploaded = 0;
            int uploadedFiles = 0;
            long done = 0;
            List<SnapshotManifest.FileEntry> stored = new ArrayList<>();
            for (int i = 0; i < files.size(); i++) {
                Path f = files.get(i);
                SnapshotManifest.FileEntry e = join(pending.get(i));
                // Prune must not collect the files of a snapshot still being written: each is named before it is looked for.
                markPending(cluster, at, takenAt, base, breakAfter, source, stored, e);
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
            // Restorable now: every file is stored and named with its sha256. The key count and state digest
            // (a cross-check a restore makes on top) follow in the same manifest when the content is read.
            SnapshotManifest manifest = new SnapshotManifest(SnapshotManifest.FORMAT, source.region(), source.clusterId(), source.zone(),
                    at.term(), at.index(), at.revision(), at.clock(), takenAt, -1, SnapshotManifest.DIGEST_PENDING, base, stored, breakAfter);
            repository.write(BackupLayout.snapshot(cluster, at.index()), manifest);
            repository.target().delete(BackupLayout.pending(cluster, at.index()));
            long millis = (System.nanoTime() - started) / 1_000_000;
            // The content is read after the upload (from the page cache by then), so it never slows the
            // snapshot down; read-only, so the checkpoint does not change.
            summary = CompletableFuture.supplyAsync(() -> {
                try (StateImage image = StateImage.openReadOnly(checkpoint)) {
                    return image.summary();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, helpers);
            final long bytes = total;
            final long up = uploaded;
            final int upFiles = uploadedFiles;
            final int fileCount = files.size();
            CompletableFuture<SnapshotManifest> complete = summary.thenApply(content -> {
                SnapshotManifest whole = new SnapshotManifest(manifest.format(), manifest.region(), manifest.clusterId(), manifest.zone(),
                        manifest.term(), manifest.index(), manifest.revision(), manifest.clock(), manifest.takenAt(), content.keys(),
                        content.digest(), manifest.encoding(), manifest.files(), manifest.breakAfter());
                try {
                    repository.write(BackupLayout.snapshot(cluster, at.index()), whole);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                LOG.info("zone {}: backup snapshot at term {} index {} (revision {}, {} keys, {} bytes in {} files) written to {} in {} ms "
                                + "(checkpoint {} ms); uploaded {} bytes in {} files, the rest was there; key count and state digest recorded "
                                + "{} ms after the start", source.zone(), at.term(), at.index(), at.revision(), content.keys(), bytes, fileCount,
                        repository.target().describe(), millis, (checkpointed - started) / 1_000_000, up, upFiles,
                        (System.nanoTime() - started) / 1_000_000);
                return whole;
            });
            CompletableFuture<SnapshotManifest> cleaned = complete.whenComplete((m, e) -> deleteQuietly(checkpoint));
            summary = null;
            return new Result(manifest, uploaded, uploadedFiles, millis, cleaned);
        } finally {
            if (summary != null) {
                // Failed before the content was handed over: nothing reads the checkpoint any more once its summary stops.
                summary.exceptionally(e -> null).join();
                deleteRecursively(checkpoint);
            }
        }
    }

    private static void deleteQuietly(Path dir) {
        try {
            deleteRecursively(dir);
        } catch (IOException e) {
            LOG.warn("cannot delete the backup checkpoint {}: {}", dir, e.toString());
        }
    }

    /**
     * Names the files uploaded so far and the next one in the pending manifest (rewritten for the first
     * file, every 16th, and every large one), so that prune never collects a file a snapshot is about to use.
     */
    private void markPending(String cluster, StatePosition at, long takenAt, Encoding base, long breakAfter, BackupSource source,
                             List<SnapshotManifest.FileEntry> stored, SnapshotManifest.FileEntry next) throws IOException {
        if (stored.isEmpty() || next.size() > 4 * 1024 * 1024 || stored.size() % 16 == 0) {
            List<SnapshotManifest.FileEntry> named = new ArrayList<>(stored);
            named.add(next);
            repository.write(BackupLayout.pending(cluster, at.index()), new SnapshotManifest(SnapshotManifest.FORMAT, source.region(),
                    source.clusterId(), source.zone(), at.term(), at.index(), at.revision(), at.clock(), takenAt, -1, "pending", base, named,
                    breakAfter));
        }
    }

    private static <T> T join(CompletableFuture<T> f) throws IOException {
        try {
            return f.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof UncheckedIOException u) {
                throw u.getCause();
            }
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IOException(e.getCause());
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

    @Override
    public void close() {
        digester.shutdownNow();
        helpers.shutdownNow();
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
