package io.petrel.store.ratis;

import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.raftlog.segmented.LogSegment;
import org.apache.ratis.server.raftlog.segmented.LogSegmentPath;
import org.apache.ratis.util.SizeInBytes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Reads every Raft log segment of a zone before Ratis starts, so that a damaged segment stops the
 * start with the name of the file (Ratis itself refuses too, but without saying which file).
 */
final class RaftLogCheck {
    private static final SizeInBytes MAX_ENTRY = SizeInBytes.valueOf("64MB");

    private RaftLogCheck() {
    }

    static void verify(Path raftDir) throws IOException {
        if (!Files.isDirectory(raftDir)) {
            return;
        }
        List<Path> groups;
        try (Stream<Path> s = Files.list(raftDir)) {
            groups = s.filter(Files::isDirectory).toList();
        }
        for (Path group : groups) {
            Path current = group.resolve("current");
            if (!Files.isDirectory(current)) {
                continue;
            }
            List<Path> files;
            try (Stream<Path> s = Files.list(current)) {
                files = s.sorted().toList();
            }
            for (Path file : files) {
                LogSegmentPath segment = LogSegmentPath.matchLogSegment(file);
                if (segment == null) {
                    continue;
                }
                try {
                    LogSegment.readSegmentFile(file.toFile(), segment.getStartEnd(), MAX_ENTRY,
                            RaftServerConfigKeys.Log.CorruptionPolicy.EXCEPTION, null, entry -> { });
                } catch (IOException | RuntimeException e) {
                    throw new IOException("Raft log segment " + file + " is corrupted (" + e.getMessage() + "). To rebuild this zone"
                            + " from the others, stop it, delete its data folder and start it again: it rejoins through a snapshot.", e);
                }
            }
        }
    }
}
