package io.petrel.api.transfer;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static java.util.Objects.requireNonNull;

/**
 * Writes an archive: the manifest first, then each entry it lists, in its order, each checked
 * against the size and SHA-256 the manifest gives while it is streamed. Never holds an entry whole.
 */
final class ArchiveWriter {
    private static final int BUFFER = 64 * 1024;
    private final ZipOutputStream zip;
    private final ArchiveManifest manifest;
    private final long time;
    private int next;

    /** Writes the manifest to {@code out}; the caller owns {@code out} and closes it after {@link #finish()}. */
    ArchiveWriter(OutputStream out, ArchiveManifest manifest, ObjectMapper json) throws IOException {
        requireNonNull(out, "out");
        this.manifest = requireNonNull(manifest, "manifest");
        this.zip = new ZipOutputStream(out, StandardCharsets.UTF_8);
        // Every entry carries the export's time, so an archive's entries say nothing the manifest does not.
        this.time = manifest.created().toEpochMilli();
        ZipEntry m = new ZipEntry(NamespaceArchive.MANIFEST);
        m.setTime(time);
        zip.putNextEntry(m);
        zip.write(json.writerWithDefaultPrettyPrinter().writeValueAsBytes(manifest.toJson()));
        zip.closeEntry();
    }

    /** The manifest's next entry, whose bytes {@code content} gives; {@code content} is read to its end, not closed. */
    ArchiveEntry write(InputStream content) throws IOException {
        if (next == manifest.entries().size()) {
            throw new IllegalStateException("every entry of the manifest is written already");
        }
        ArchiveEntry e = manifest.entries().get(next++);
        ZipEntry ze = new ZipEntry(e.path());
        ze.setTime(time);
        // Code and artifacts are large and often compressed already: the fastest level; documents compress well.
        zip.setLevel(e.kind().isItem() ? Deflater.DEFAULT_COMPRESSION : Deflater.BEST_SPEED);
        zip.putNextEntry(ze);
        MessageDigest sha = Digests.sha256();
        byte[] buf = new byte[BUFFER];
        long written = 0;
        for (int n; (n = content.read(buf)) > 0; ) {
            written += n;
            if (written > e.size()) {
                throw new IOException(e.kind().label(e.name()) + " grew to more than the " + e.size() + " bytes it had when the export began");
            }
            sha.update(buf, 0, n);
            zip.write(buf, 0, n);
        }
        zip.closeEntry();
        String actual = HexFormat.of().formatHex(sha.digest());
        if (written != e.size() || !actual.equals(e.sha256())) {
            throw new IOException(e.kind().label(e.name()) + " is not what the store said when the export began (" + written + " bytes, sha256 "
                    + actual + ", expected " + e.size() + " bytes, sha256 " + e.sha256() + "): the store's copy is damaged");
        }
        return e;
    }

    /** Ends the archive; every entry of the manifest must have been written. */
    void finish() throws IOException {
        if (next != manifest.entries().size()) {
            throw new IllegalStateException("only " + next + " of " + manifest.entries().size() + " entries were written");
        }
        zip.finish();
        zip.flush();
    }
}
