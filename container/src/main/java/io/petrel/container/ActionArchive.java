package io.petrel.container;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Base64;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/** Unpacks an action's base64 archive into its work directory, refusing what could escape it. */
final class ActionArchive {
    // A 48 MB archive (OpenWhisk's code size limit) may still unpack into far more: a zip bomb must not fill the disk.
    static final long MAX_UNPACKED_BYTES = 1L << 30;
    static final int MAX_ENTRIES = 100_000;

    /** An archive the action's developer got wrong: the init fails with this message. */
    static final class InvalidArchiveException extends Exception {
        InvalidArchiveException(String message) {
            super(message);
        }
    }

    private ActionArchive() {}

    static byte[] decode(String base64) throws InvalidArchiveException {
        try {
            // MIME decoding: some clients wrap base64 in lines.
            return Base64.getMimeDecoder().decode(base64);
        }
        catch (IllegalArgumentException e) {
            throw new InvalidArchiveException(Messages.ARCHIVE_ERROR);
        }
    }

    /** Unpacks a zip into {@code folder} (which must not exist yet). */
    static void unzip(byte[] zip, Path folder) throws InvalidArchiveException, IOException {
        if (zip.length < 4 || zip[0] != 'P' || zip[1] != 'K') {
            throw new InvalidArchiveException(Messages.ARCHIVE_ERROR);
        }
        Path root = folder.toAbsolutePath().normalize();
        Files.createDirectory(root);
        long unpacked = 0;
        int entries = 0;
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
            ZipEntry entry;
            while ((entry = in.getNextEntry()) != null) {
                if (++entries > MAX_ENTRIES) {
                    throw new InvalidArchiveException(Messages.ARCHIVE_ERROR + " It has more than " + MAX_ENTRIES + " entries.");
                }
                Path target = resolve(root, entry.getName());
                if (entry.isDirectory()) {
                    Files.createDirectories(target);
                    continue;
                }
                Files.createDirectories(target.getParent());
                try (OutputStream out = Files.newOutputStream(target)) {
                    unpacked += copy(in, out, MAX_UNPACKED_BYTES - unpacked);
                }
            }
        }
        catch (IOException e) {
            if (e.getClass().getPackageName().equals("java.util.zip") || e instanceof java.io.EOFException) {
                throw new InvalidArchiveException(Messages.ARCHIVE_ERROR);
            }
            throw e;
        }
        if (entries == 0) {
            throw new InvalidArchiveException(Messages.ARCHIVE_ERROR);
        }
    }

    private static Path resolve(Path root, String name) throws InvalidArchiveException {
        try {
            Path target = root.resolve(name).normalize();
            if (!target.startsWith(root) || target.equals(root)) {
                throw new InvalidArchiveException(Messages.ARCHIVE_ERROR + " The entry '" + name + "' is outside the action's folder.");
            }
            return target;
        }
        catch (InvalidPathException e) {
            throw new InvalidArchiveException(Messages.ARCHIVE_ERROR + " The entry '" + name + "' has an invalid name.");
        }
    }

    private static long copy(InputStream in, OutputStream out, long allowed) throws IOException, InvalidArchiveException {
        byte[] buffer = new byte[64 * 1024];
        long copied = 0;
        int n;
        while ((n = in.read(buffer)) > 0) {
            copied += n;
            if (copied > allowed) {
                throw new InvalidArchiveException(Messages.ARCHIVE_ERROR + " It unpacks to more than " + MAX_UNPACKED_BYTES + " bytes.");
            }
            out.write(buffer, 0, n);
        }
        return copied;
    }
}
