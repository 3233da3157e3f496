package io.petrel.backup;

import io.petrel.backup.format.ObjectCodec;
import io.petrel.backup.format.SegmentManifest;
import io.petrel.backup.format.Segments;
import io.petrel.backup.format.SnapshotManifest;
import io.petrel.backup.target.NoSuchObjectException;
import io.petrel.store.ratis.JournalEntry;
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
import java.util.List;
import java.util.stream.Stream;

import static java.util.Objects.requireNonNull;

/**
 * Builds a state from a plan: downloads the snapshot's files and checks each against its sha256,
 * checks the key count and state digest the snapshot recorded, then replays the archived entries up
 * to the restore point, checking every segment's sha256 and the revision after it. Anything that does
 * not match stops the restore with a message naming the object.
 */
public final class Restorer {
    private static final Logger LOG = LoggerFactory.getLogger(Restorer.class);

    private final BackupRepository repository;

    public Restorer(BackupRepository repository) {
        this.repository = requireNonNull(repository, "repository");
    }

    /** Where a restore ended: the position and time of the last entry applied, and what the state holds. */
    public record Result(String cluster, long snapshotIndex, StatePosition position, long lastEntryTime, long keys, String digest,
                         long entriesReplayed, long bytesRead, long millis) {
    }

    /**
     * Restores {@code plan} into {@code stateDir} (must not exist or be empty). With {@code rebase}, the
     * state is made the start of a new cluster (what a region restored from it needs).
     */
    public Result restore(RestorePlan plan, Path stateDir, boolean rebase, Progress progress) throws IOException {
        return restore(plan, stateDir, rebase, true, progress);
    }

    /**
     * Like {@link #restore(RestorePlan, Path, boolean, Progress)}. Without {@code deep}, the state's
     * content is not read again to count its keys and digest it: every file matching the manifest's
     * sha256 already proves it is the snapshot, byte for byte (the result then has {@code keys} -1 and no
     * digest unless nothing was replayed, when the snapshot's are exact).
     */
    public Result restore(RestorePlan plan, Path stateDir, boolean rebase, boolean deep, Progress progress) throws IOException {
        long started = System.nanoTime();
        if (Files.exists(stateDir)) {
            try (Stream<Path> s = Files.list(stateDir)) {
                if (s.findAny().isPresent()) {
                    throw new IOException("the restore folder " + stateDir + " is not empty");
                }
            }
        }
        Files.createDirectories(stateDir);
        SnapshotManifest snapshot = plan.snapshot();
        long total = plan.bytes();
        long done = 0;
        for (SnapshotManifest.FileEntry f : snapshot.files()) {
            fetchFile(f, stateDir.resolve(f.name()));
            done += f.size();
            progress.update("restore", done, total);
        }
        long replayed = 0;
        long lastTime = snapshot.clock();
        // Every file was just checked against the manifest's sha256: RocksDB need not read them all again.
        try (StateImage image = StateImage.open(stateDir, false)) {
            StatePosition at = image.position();
            if (at.index() != snapshot.index() || at.revision() != snapshot.revision()) {
                throw new IOException("snapshot " + snapshot.index() + " of cluster " + plan.cluster() + " holds index " + at.index()
                        + " revision " + at.revision() + " but its manifest says index " + snapshot.index() + " revision " + snapshot.revision());
            }
            StateImage.Summary before = deep || !snapshot.hasSummary() ? image.summary()
                    : new StateImage.Summary(snapshot.digest(), snapshot.keys());
            long keys = before.keys();
            String digest = before.digest();
            if (snapshot.hasSummary() && (keys != snapshot.keys() || !digest.equals(snapshot.digest()))) {
                throw new IOException("snapshot " + snapshot.index() + " of cluster " + plan.cluster() + " does not hold what its manifest says: "
                        + keys + " keys with digest " + digest + ", the manifest says " + snapshot.keys() + " keys with digest " + snapshot.digest());
            }
            boolean stop = false;
            for (SegmentManifest segment : plan.segments()) {
                List<JournalEntry> entries = fetchSegment(segment);
                boolean whole = true;
                for (JournalEntry e : entries) {
                    if (e.index() <= image.position().index()) {
                        continue; // an overlap: applied from the segment before
                    }
                    if (beyond(plan.point(), e)) {
                        stop = true;
                        whole = false;
                        break;
                    }
                    image.apply(e);
                    lastTime = Math.max(lastTime, e.time());
                    replayed++;
                }
                if (whole && image.position().revision() != segment.revisionAfter()) {
                    throw new IOException("archive segment " + segment.object() + " replayed to revision " + image.position().revision()
                            + " but its manifest says " + segment.revisionAfter());
                }
                done += segment.size();
                progress.update("restore", done, total);
                if (stop) {
                    break;
                }
            }
            if (plan.point() instanceof RestorePoint.AtIndex wanted && image.position().index() != wanted.index()) {
                throw new IOException("the archive of cluster " + plan.cluster() + " ends at index " + image.position().index()
                        + ", before the index " + wanted.index() + " asked for");
            }
            StatePosition end = image.position();
            if (replayed > 0 && deep) {
                StateImage.Summary after = image.summary();
                keys = after.keys();
                digest = after.digest();
            } else if (replayed > 0) {
                keys = -1;
                digest = null;
            }
            if (rebase) {
                image.rebaseForNewCluster();
            }
            long millis = (System.nanoTime() - started) / 1_000_000;
            LOG.info("restored cluster {} to index {} (term {}, revision {}, {} keys) from snapshot {} and {} archived entries in {} ms",
                    plan.cluster(), end.index(), end.term(), end.revision(), keys, snapshot.index(), replayed, millis);
            return new Result(plan.cluster(), snapshot.index(), end, lastTime, keys, digest, replayed, total, millis);
        }
    }

    private static boolean beyond(RestorePoint point, JournalEntry e) {
        return switch (point) {
            case RestorePoint.Latest l -> false;
            case RestorePoint.AtIndex at -> e.index() > at.index();
            case RestorePoint.AtTime at -> e.time() > at.time().toEpochMilli();
        };
    }

    private void fetchFile(SnapshotManifest.FileEntry f, Path to) throws IOException {
        MessageDigest sha = ObjectCodec.sha256();
        long size;
        try (InputStream stored = open(f.object(), "snapshot file " + f.name());
             InputStream plain = new DigestInputStream(repository.codec().decoder(stored, f.encoding(), f.object()), sha);
             OutputStream out = Files.newOutputStream(to)) {
            size = plain.transferTo(out);
        } catch (NoSuchObjectException e) {
            throw e;
        } catch (IOException e) {
            throw new IOException("snapshot file " + f.name() + " (object " + f.object() + ") cannot be read: " + e.getMessage(), e);
        }
        String actual = ObjectCodec.hex(sha);
        if (size != f.size() || !actual.equals(f.sha256())) {
            throw new IOException("snapshot file " + f.name() + " (object " + f.object() + ") is corrupted or truncated: "
                    + size + " bytes with sha256 " + actual + ", the manifest says " + f.size() + " bytes with sha256 " + f.sha256());
        }
    }

    /** Reads a whole segment and checks it against its manifest (its sha256, size, index range and contiguity). */
    public List<JournalEntry> fetchSegment(SegmentManifest segment) throws IOException {
        MessageDigest sha = ObjectCodec.sha256();
        List<JournalEntry> entries;
        long size;
        try (InputStream stored = open(segment.object(), "archive segment");
             DigestInputStream plain = new DigestInputStream(repository.codec().decoder(stored, segment.encoding(), segment.object()), sha)) {
            byte[] bytes = plain.readAllBytes();
            size = bytes.length;
            String actual = ObjectCodec.hex(sha);
            if (size != segment.size() || !actual.equals(segment.sha256())) {
                throw new IOException("archive segment " + segment.object() + " is corrupted or truncated: " + size + " bytes with sha256 "
                        + actual + ", the manifest says " + segment.size() + " bytes with sha256 " + segment.sha256());
            }
            entries = Segments.read(new java.io.ByteArrayInputStream(bytes), segment.object());
        } catch (NoSuchObjectException e) {
            throw e;
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().contains(segment.object())) {
                throw e;
            }
            throw new IOException("archive segment " + segment.object() + " cannot be read: " + e.getMessage(), e);
        }
        if (entries.size() != segment.entries() || entries.getFirst().index() != segment.firstIndex()
                || entries.getLast().index() != segment.lastIndex()) {
            throw new IOException("archive segment " + segment.object() + " holds entries " + entries.getFirst().index() + ".."
                    + entries.getLast().index() + ", its manifest says " + segment.firstIndex() + ".." + segment.lastIndex());
        }
        for (int i = 1; i < entries.size(); i++) {
            if (entries.get(i).index() != entries.get(i - 1).index() + 1) {
                throw new IOException("archive segment " + segment.object() + " has a gap after entry " + entries.get(i - 1).index());
            }
        }
        return entries;
    }

    private InputStream open(String object, String what) throws IOException {
        try {
            return repository.target().get(object);
        } catch (NoSuchObjectException e) {
            throw new NoSuchObjectException(what + " " + object + " is missing from " + repository.target().describe());
        }
    }
}
