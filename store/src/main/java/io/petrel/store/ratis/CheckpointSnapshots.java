package io.petrel.store.ratis;

import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.SnapshotRetentionPolicy;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.impl.FileListSnapshotInfo;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Snapshots as RocksDB checkpoints: directories {@code snapshot.<term>_<index>} in Ratis's state
 * machine folder, each file with an {@code .md5} beside it.
 *
 * <p>The folder layout is what Ratis expects for leader-driven installation: it ships the listed files
 * relative to its storage root and, on the follower, renames the received folder over the whole state
 * machine folder. That is why the live database lives elsewhere.
 *
 * <p>Ratis asks for the latest snapshot on every pass of every log appender, so the answer is cached;
 * the cache is keyed on the folder's modification time (a rename or a new snapshot changes it) and
 * dropped whenever this replica takes or installs a snapshot, so one Ratis just installed is seen at once.
 */
final class CheckpointSnapshots implements StateMachineStorage {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointSnapshots.class);
    private static final Pattern NAME = Pattern.compile("snapshot\\.(\\d+)_(\\d+)");
    static final String MD5_SUFFIX = ".md5";
    /**
     * Present in a snapshot folder until the checksums of its files are written. Checksumming every
     * file takes far longer than the checkpoint itself, so it runs after the snapshot is taken, off the
     * thread that applies the log; a snapshot is complete without them (Ratis computes digests while
     * sending), and a replica that died before writing them writes them when it starts.
     */
    static final String UNSEALED = "UNSEALED";

    private volatile File smDir;
    private volatile Cached cached;

    private record Cached(FileTime folderModified, SnapshotInfo info) {
    }

    @Override
    public void init(RaftStorage storage) {
        smDir = storage.getStorageDir().getStateMachineDir();
    }

    Path dir() {
        return smDir.toPath();
    }

    Path snapshotPath(TermIndex ti) {
        return dir().resolve("snapshot." + ti.getTerm() + "_" + ti.getIndex());
    }

    @Override
    public SnapshotInfo getLatestSnapshot() {
        FileTime modified = folderModified();
        Cached c = cached;
        if (c != null && modified != null && modified.equals(c.folderModified())) {
            return c.info();
        }
        SnapshotInfo info = latest().map(this::info).orElse(null);
        cached = modified == null ? null : new Cached(modified, info);
        return info;
    }

    /** Forgets the cached answer: the folder's contents changed. */
    void invalidate() {
        cached = null;
    }

    private FileTime folderModified() {
        File dir = smDir;
        if (dir == null) {
            return null;
        }
        try {
            return Files.getLastModifiedTime(dir.toPath());
        } catch (IOException e) {
            return null;
        }
    }

    /** The newest complete snapshot folder with its term and index. */
    Optional<Snapshot> latest() {
        return list().stream().max(Comparator.comparingLong(Snapshot::index));
    }

    record Snapshot(Path path, long term, long index) {
        TermIndex termIndex() {
            return TermIndex.valueOf(term, index);
        }
    }

    List<Snapshot> list() {
        File dir = smDir;
        if (dir == null || !dir.isDirectory()) {
            return List.of();
        }
        List<Snapshot> found = new ArrayList<>();
        try (Stream<Path> entries = Files.list(dir.toPath())) {
            entries.forEach(p -> {
                Matcher m = NAME.matcher(p.getFileName().toString());
                if (m.matches() && Files.isDirectory(p)) {
                    found.add(new Snapshot(p, Long.parseLong(m.group(1)), Long.parseLong(m.group(2))));
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list snapshots in " + dir, e);
        }
        return found;
    }

    private SnapshotInfo info(Snapshot s) {
        List<FileInfo> files = new ArrayList<>();
        for (Path file : dataFiles(s.path())) {
            files.add(new FileInfo(file.toAbsolutePath(), readDigest(file)));
        }
        return new FileListSnapshotInfo(files, s.termIndex());
    }

    /** The files of a snapshot, without the digests beside them. */
    static List<Path> dataFiles(Path snapshot) {
        try (Stream<Path> files = Files.list(snapshot)) {
            return files.filter(f -> isDataFile(f.getFileName().toString()) && Files.isRegularFile(f)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + snapshot, e);
        }
    }

    /** Neither a checksum file (nor one being written: {@code .md5.tmp}) nor the unsealed marker. */
    private static boolean isDataFile(String name) {
        return !name.contains(MD5_SUFFIX) && !name.equals(UNSEALED);
    }

    static boolean isSealed(Path snapshot) {
        return !Files.exists(snapshot.resolve(UNSEALED));
    }

    /** Writes the checksums of a snapshot taken with the unsealed marker, then removes the marker. */
    static void seal(Path snapshot) throws IOException {
        writeDigests(snapshot);
        Files.deleteIfExists(snapshot.resolve(UNSEALED));
    }

    private static MD5Hash readDigest(Path file) {
        File md5 = new File(file + MD5_SUFFIX);
        if (!md5.exists()) {
            return null; // Ratis computes it while sending
        }
        try {
            return MD5FileUtil.readStoredMd5ForFile(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + md5, e);
        }
    }

    /** Writes an {@code .md5} beside every file of a snapshot this replica made itself. */
    static void writeDigests(Path snapshot) throws IOException {
        for (Path file : dataFiles(snapshot)) {
            MD5FileUtil.saveMD5File(file.toFile(), MD5FileUtil.computeMd5ForFile(file.toFile()));
        }
    }

    /**
     * Checks every file of a snapshot against its {@code .md5}; throws naming the first file that is
     * missing, truncated or changed.
     */
    static void verify(Path snapshot) throws IOException {
        for (Path file : dataFiles(snapshot)) {
            File md5 = new File(file + MD5_SUFFIX);
            if (!md5.exists()) {
                throw new IOException("snapshot file " + file + " has no checksum file " + md5);
            }
            MD5Hash stored = MD5FileUtil.readStoredMd5ForFile(file.toFile());
            MD5Hash actual = MD5FileUtil.computeMd5ForFile(file.toFile());
            if (!stored.equals(actual)) {
                throw new IOException("snapshot file " + file + " is corrupted: its MD5 is " + actual
                        + " but " + md5.getName() + " says " + stored);
            }
        }
    }

    @Override
    public void format() {
        // Nothing to format: the folder is created by Ratis.
    }

    /** Keeps the newest {@code keep} snapshots (at least one) and deletes the others. */
    @Override
    public void cleanupOldSnapshots(SnapshotRetentionPolicy policy) throws IOException {
        int keep = Math.max(2, policy.getNumSnapshotsRetained());
        List<Snapshot> all = new ArrayList<>(list());
        all.sort(Comparator.comparingLong(Snapshot::index).reversed());
        for (Snapshot old : all.subList(Math.min(keep, all.size()), all.size())) {
            LOG.debug("deleting old snapshot {}", old.path());
            deleteRecursively(old.path());
        }
        invalidate();
    }

    static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
