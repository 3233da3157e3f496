package io.petrel.cli.transfer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * How an archive file is kept on disk. The archive itself is plain: the region writes and reads it
 * as it is. An envelope wraps the file on the way to disk ({@link #seal}) and unwraps it on the way
 * back ({@link #open}); {@code petrel ns export} and {@code petrel ns import} send every file through
 * one.
 *
 * <p>{@link #PLAIN} keeps the zip as it is; {@link SealedEnvelope} encrypts it (AES-256-GCM, as backups
 * are) for {@code ns export --encrypt-key-file}, and {@code ns import} recognises it by its header.
 */
public interface ArchiveEnvelope {
    /** The file as it goes to disk; closing the returned stream finishes and closes {@code file}. */
    OutputStream seal(OutputStream file) throws IOException;

    /** The plain archive read back from {@code file}; closing the returned stream closes {@code file}. */
    InputStream open(InputStream file) throws IOException;

    /** Whether a sealed file is the plain archive itself (nothing to unwrap). */
    boolean plain();

    /** The archive as it is: a zip file any tool can list. */
    ArchiveEnvelope PLAIN = new ArchiveEnvelope() {
        @Override
        public OutputStream seal(OutputStream file) {
            return file;
        }

        @Override
        public InputStream open(InputStream file) {
            return file;
        }

        @Override
        public boolean plain() {
            return true;
        }
    };
}
