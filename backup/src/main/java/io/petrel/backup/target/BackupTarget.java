package io.petrel.backup.target;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Where backups are kept: a flat space of named objects (a directory, or an S3-compatible bucket under
 * a prefix). Backups only ever create whole objects, read them, list them and delete them, so that is
 * all a target has to do.
 *
 * <p>Names are relative and '/'-separated, of letters, digits and {@code . _ - /}; no part is empty,
 * {@code .} or {@code ..}. An object appears whole or not at all: a reader never sees half an upload.
 * Every method may fail with an {@link IOException} saying which target and which object; callers retry.
 */
public interface BackupTarget extends AutoCloseable {
    Pattern NAME = Pattern.compile("[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*");

    /** Stores {@code file} as {@code name}, replacing an object of that name. */
    void put(String name, Path file) throws IOException;

    /** Stores {@code content} as {@code name}, replacing an object of that name. */
    void put(String name, byte[] content) throws IOException;

    /**
     * Stores {@code content} as {@code name} only if no object of that name exists, atomically: of any
     * number of concurrent calls for one name, at most one returns true. Returns false if the object
     * existed. Disaster recovery's fencing epochs rest on this (see {@code dr}); a target that cannot do
     * it throws {@link UnsupportedOperationException}.
     */
    boolean createIfAbsent(String name, byte[] content) throws IOException;

    /** Opens {@code name} for reading; throws {@link NoSuchObjectException} if there is no such object. */
    InputStream get(String name) throws IOException;

    /** The object's size, or empty if there is no such object. */
    Optional<ObjectInfo> stat(String name) throws IOException;

    /** Every object whose name starts with {@code prefix} (may be empty), sorted by name. */
    List<ObjectInfo> list(String prefix) throws IOException;

    /** Deletes {@code name}; deleting a missing object is not an error. */
    void delete(String name) throws IOException;

    /** For messages and logs, e.g. {@code dir:/var/backups} or {@code s3://bucket/prefix (http://host:9000)}. */
    String describe();

    @Override
    void close() throws IOException;

    /** Throws {@link IllegalArgumentException} unless {@code name} is a valid object name. */
    static String checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid backup object name '" + name + "'");
        }
        for (String part : name.split("/")) {
            if (part.equals(".") || part.equals("..")) {
                throw new IllegalArgumentException("invalid backup object name '" + name + "'");
            }
        }
        return name;
    }
}
