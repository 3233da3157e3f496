package io.petrel.backup.target;

import static java.util.Objects.requireNonNull;

/** One stored object of a backup target: its name (relative, '/'-separated) and its size in bytes. */
public record ObjectInfo(String name, long size) {
    public ObjectInfo {
        requireNonNull(name, "name");
        if (size < 0) {
            throw new IllegalArgumentException("size must not be negative: " + size);
        }
    }
}
