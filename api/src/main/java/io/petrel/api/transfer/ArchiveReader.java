package io.petrel.api.transfer;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipInputStream;

import static java.util.Objects.requireNonNull;

/**
 * Reads an archive as a stream, entry by entry, and believes nothing: the first entry must be the
 * manifest, every later one must be the manifest's next, and each entry's bytes are checked against
 * the manifest's size (as they arrive, so a zip bomb stops at its declared size) and SHA-256 (at its
 * end). Every failure is an {@link ArchiveException} naming the entry.
 *
 * <p>A stream reader sees only the local headers; {@link #verifyDirectory} then holds the zip's
 * central directory (what other zip tools read) to what the stream saw, which also catches an
 * archive cut off after its last entry.
 */
final class ArchiveReader implements Closeable {
    private static final int BUFFER = 64 * 1024;

    /** What the stream saw of one zip entry, to be compared with the central directory. */
    record DirectoryRecord(String name, long crc, long size, long compressedSize, int method, long time) {
        static DirectoryRecord of(ZipEntry e) {
            return new DirectoryRecord(e.getName(), e.getCrc(), e.getSize(), e.getCompressedSize(), e.getMethod(), e.getTime());
        }
    }

    /** One entry: what the manifest says it is, and its bytes, checked as they are read. */
    record Entry(ArchiveEntry meta, InputStream content) {
    }

    private final ZipInputStream zip;
    private final ArchiveManifest manifest;
    private final List<DirectoryRecord> seen = new ArrayList<>();
    private int next;
    private Verified current;
    private ZipEntry currentZip;

    private ArchiveReader(ZipInputStream zip, ArchiveManifest manifest, ZipEntry manifestEntry) {
        this.zip = zip;
        this.manifest = manifest;
        this.seen.add(DirectoryRecord.of(manifestEntry));
    }

    /** Reads the manifest; refuses anything that is not a Petrel namespace archive. */
    static ArchiveReader open(InputStream in, ObjectMapper json) {
        requireNonNull(in, "in");
        ZipInputStream zip = new ZipInputStream(in, StandardCharsets.UTF_8);
        ZipEntry first;
        try {
            first = zip.getNextEntry();
        } catch (IOException | IllegalArgumentException e) {
            throw new ArchiveException("not a Petrel namespace archive: it cannot be read as a zip file (" + e.getMessage() + ")", e);
        }
        if (first == null) {
            throw new ArchiveException("not a Petrel namespace archive: the data is not a zip file, or an empty one");
        }
        if (!first.getName().equals(NamespaceArchive.MANIFEST)) {
            throw new ArchiveException("not a Petrel namespace archive: a zip file whose first entry is '" + first.getName()
                    + "', where a Petrel archive has its " + NamespaceArchive.MANIFEST);
        }
        byte[] bytes;
        try {
            bytes = readAtMost(zip, NamespaceArchive.MAX_MANIFEST_BYTES);
        } catch (IOException e) {
            throw new ArchiveException("the archive's manifest is damaged or truncated (" + e.getMessage() + ")", e);
        }
        return new ArchiveReader(zip, ArchiveManifest.fromJson(parseStrict(json, bytes, NamespaceArchive.MANIFEST)), first);
    }

    /**
     * One JSON document, read strictly: a key twice in one object, or anything after the document,
     * is refused, so that no reader can take a document for something other than what was checked.
     */
    static JsonNode parseStrict(ObjectMapper json, byte[] bytes, String path) {
        try (JsonParser p = json.getFactory().createParser(bytes)) {
            p.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
            JsonNode tree = json.readTree(p);
            if (tree == null || tree.isMissingNode() || p.nextToken() != null) {
                throw new ArchiveException("the archive's " + path + " is not one JSON document");
            }
            return tree;
        } catch (JsonProcessingException e) {
            throw new ArchiveException("the archive's " + path + " is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ArchiveException("the archive's " + path + " cannot be read: " + e.getMessage(), e);
        }
    }

    private static byte[] readAtMost(InputStream in, int max) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[BUFFER];
        for (int n; (n = in.read(buf)) > 0; ) {
            if (out.size() + n > max) {
                throw new ArchiveException("the archive's manifest is larger than " + max + " bytes");
            }
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    ArchiveManifest manifest() {
        return manifest;
    }

    /** The zip entries read so far (the manifest included), for {@link #verifyDirectory}. */
    List<DirectoryRecord> seen() {
        return List.copyOf(seen);
    }

    /** The next entry, which must be the one the manifest lists next; empty after the last. The previous one is checked to its end. */
    Optional<Entry> next() {
        closeCurrent();
        ZipEntry ze = nextZipEntry();
        int total = manifest.entries().size();
        if (ze == null) {
            if (next < total) {
                throw new ArchiveException("the archive ends after " + next + " of the " + total + " entries its manifest lists: it is truncated");
            }
            return Optional.empty();
        }
        if (next == total) {
            throw new ArchiveException("the archive holds '" + ze.getName() + "', which its manifest does not list");
        }
        ArchiveEntry expected = manifest.entries().get(next);
        if (!ze.getName().equals(expected.path())) {
            throw new ArchiveException("entry " + (next + 2) + " of the archive is '" + ze.getName() + "', where its manifest lists '"
                    + expected.path() + "'");
        }
        next++;
        current = new Verified(expected);
        currentZip = ze;
        return Optional.of(new Entry(expected, current));
    }

    /** After the last entry: nothing more may follow. */
    void finish() {
        if (next().isPresent()) {
            throw new ArchiveException("the archive holds more entries than its manifest lists");
        }
    }

    private ZipEntry nextZipEntry() {
        try {
            return zip.getNextEntry();
        } catch (IOException | IllegalArgumentException e) {
            throw new ArchiveException("the archive is damaged or truncated after its entry " + (next + 1) + " (" + e.getMessage() + ")", e);
        }
    }

    private void closeCurrent() {
        if (current == null) {
            return;
        }
        current.drain();
        seen.add(DirectoryRecord.of(currentZip));
        current = null;
        currentZip = null;
    }

    /** Does not close the underlying stream: whoever opened it does. */
    @Override
    public void close() {
    }

    /**
     * Holds the central directory of the archive in {@code file} to the entries a stream read of the
     * same file saw: the same entries, in the same order, with the same sizes, CRCs, methods and times.
     */
    static void verifyDirectory(Path file, List<DirectoryRecord> streamed) throws IOException {
        List<DirectoryRecord> directory = new ArrayList<>();
        try (ZipFile zf = new ZipFile(file.toFile(), StandardCharsets.UTF_8)) {
            if (zf.getComment() != null) {
                throw new ArchiveException("the archive's zip directory carries a comment, which a Petrel archive never has: it was changed");
            }
            for (ZipEntry e : Collections.list(zf.entries())) {
                directory.add(DirectoryRecord.of(e));
            }
        } catch (ZipException | IllegalArgumentException e) {
            throw new ArchiveException("the archive's zip directory is damaged or missing (" + e.getMessage() + "): it is truncated or was changed", e);
        }
        if (directory.size() != streamed.size()) {
            throw new ArchiveException("the archive's zip directory lists " + directory.size() + " entries where the archive holds " + streamed.size()
                    + ": it is damaged or was changed");
        }
        for (int i = 0; i < directory.size(); i++) {
            if (!directory.get(i).equals(streamed.get(i))) {
                throw new ArchiveException("the archive's zip directory does not agree with its entry '" + streamed.get(i).name()
                        + "': it is damaged or was changed");
            }
        }
    }

    /** One entry's bytes, at most the manifest's size, checked against its SHA-256 when they end. */
    private final class Verified extends InputStream {
        private final ArchiveEntry expected;
        private final MessageDigest sha = Digests.sha256();
        private long read;
        private boolean ended;

        Verified(ArchiveEntry expected) {
            this.expected = expected;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (ended) {
                return -1;
            }
            if (len == 0) {
                return 0;
            }
            int n;
            try {
                // One byte more than declared may be asked for: that is how an overlong entry is caught.
                n = zip.read(b, off, (int) Math.min(len, expected.size() - read + 1));
            } catch (IOException e) {
                throw new ArchiveException("the archive is damaged or truncated in " + expected.path() + " (" + e.getMessage() + ")", e);
            }
            if (n < 0) {
                end();
                return -1;
            }
            read += n;
            if (read > expected.size()) {
                throw new ArchiveException("the archive's " + expected.path() + " is larger than the " + expected.size()
                        + " bytes its manifest says: it was changed");
            }
            sha.update(b, off, n);
            return n;
        }

        private void end() {
            ended = true;
            String actual = HexFormat.of().formatHex(sha.digest());
            if (read != expected.size() || !actual.equals(expected.sha256())) {
                throw new ArchiveException("the archive's " + expected.path() + " does not match its manifest (" + read + " bytes with sha256 "
                        + actual + "; the manifest says " + expected.size() + " bytes with sha256 " + expected.sha256() + "): it was changed or damaged");
            }
        }

        void drain() {
            byte[] buf = new byte[BUFFER];
            while (read(buf, 0, buf.length) >= 0) {
                // read to the end, which checks the digest
            }
        }

        @Override
        public void close() {
            // The entry is drained and checked by the reader when the next one is asked for.
        }
    }
}
