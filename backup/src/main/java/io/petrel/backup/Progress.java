package io.petrel.backup;

/** Told how far a long operation is, for a progress bar; {@code total} is -1 when unknown. */
@FunctionalInterface
public interface Progress {
    Progress NONE = (phase, done, total) -> { };

    void update(String phase, long done, long total);
}
