package io.petrel.store.ratis;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.util.Objects.requireNonNull;

/**
 * Refuses writes while the data folder's file system has less than {@code reserveBytes} free, so a
 * full disk turns into a clear error on the leader before anything is logged, instead of a failed
 * fsync in the middle of the log. (The same idea as etcd's space quota alarm.)
 */
final class DiskGuard {
    private final Path dir;
    private final long reserveBytes;
    private volatile FileStore fileStore;

    DiskGuard(Path dir, long reserveBytes) {
        this.dir = requireNonNull(dir, "dir");
        this.reserveBytes = reserveBytes;
    }

    void check() throws IOException {
        if (reserveBytes <= 0) {
            return;
        }
        long free = freeBytes();
        if (free < reserveBytes) {
            throw new IOException(ZoneStateMachine.DISK_FULL + ": disk full: " + free / (1024 * 1024) + " MiB free under "
                    + dir + ", below the reserve of " + reserveBytes / (1024 * 1024) + " MiB; writes are refused until space is freed");
        }
    }

    long freeBytes() throws IOException {
        // Looking the file system up reads the mount table; asking it for free space is one statfs.
        FileStore store = fileStore;
        if (store == null) {
            store = Files.getFileStore(dir);
            fileStore = store;
        }
        return store.getUsableSpace();
    }

}
