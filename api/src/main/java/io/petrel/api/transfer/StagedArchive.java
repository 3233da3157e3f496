package io.petrel.api.transfer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.namespace.NamespacePolicy;
import io.petrel.api.transfer.NamespaceArchive.Kind;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.Reader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * An archive that was read to its end and found valid, kept in a temporary file until it is
 * imported: the whole of it is checked (the manifest, every entry's size and SHA-256, the zip
 * directory, every item as a document of its kind, the code as UTF-8 text) before anything is
 * written, so that a bad archive changes nothing.
 */
final class StagedArchive implements Closeable {
    /** What may follow the last entry: the zip's central directory, whose size the manifest bounds. */
    private static final long MAX_TAIL_BYTES = 2L * NamespaceArchive.MAX_MANIFEST_BYTES;

    /**
     * One item as it will be in the target namespace: its archive form's digest (after the namespace
     * rewrite), its content's digest and size (code, artifact bytes), an action's kind, a policy.
     */
    record Item(Kind kind, String name, String digest, Optional<String> contentSha, long contentSize, Optional<String> actionKind,
                Optional<NamespacePolicy> policy) {
        String label() {
            return kind.label(name);
        }
    }

    private final Path file;
    private final ArchiveManifest manifest;
    private final List<Item> items;
    private final ObjectMapper json;

    private StagedArchive(Path file, ArchiveManifest manifest, List<Item> items, ObjectMapper json) {
        this.file = file;
        this.manifest = manifest;
        this.items = List.copyOf(items);
        this.json = json;
    }

    /** Reads {@code in} to its end into a file in {@code dir}, checking all of it for import as namespace {@code target}. */
    static StagedArchive stage(InputStream in, String target, Path dir, ObjectMapper json) throws IOException {
        requireNonNull(in, "in");
        Files.createDirectories(dir);
        Path file = Files.createTempFile(dir, "petrel-import-", ".zip");
        boolean staged = false;
        try {
            ArchiveManifest manifest;
            List<Item> items = new ArrayList<>();
            List<ArchiveReader.DirectoryRecord> seen;
            try (OutputStream copy = new BufferedOutputStream(Files.newOutputStream(file), 64 * 1024); Tee tee = new Tee(in, copy)) {
                ArchiveReader reader = ArchiveReader.open(tee, json);
                manifest = reader.manifest();
                check(reader, manifest, target, json, items);
                reader.finish();
                tee.drain(MAX_TAIL_BYTES);
                seen = reader.seen();
            }
            ArchiveReader.verifyDirectory(file, seen);
            staged = true;
            return new StagedArchive(file, manifest, items, json);
        } finally {
            if (!staged) {
                Files.deleteIfExists(file);
            }
        }
    }

    private static void check(ArchiveReader reader, ArchiveManifest manifest, String target, ObjectMapper json, List<Item> items) throws IOException {
        ArchiveDocuments documents = new ArchiveDocuments(manifest);
        NamespaceRewrite rewrite = new NamespaceRewrite(manifest.namespace(), target);
        ArchiveForms forms = new ArchiveForms(json);
        List<ArchiveEntry> entries = manifest.entries();
        for (int i = 0; ; i++) {
            Optional<ArchiveReader.Entry> next = reader.next();
            if (next.isEmpty()) {
                return;
            }
            ArchiveEntry meta = next.get().meta();
            if (meta.kind() == Kind.ACTION_CODE) {
                requireUtf8(next.get().content(), meta);
                continue;
            }
            if (!meta.kind().isItem()) {
                continue; // artifact bytes: read to the end, and so checked, by the next call
            }
            Optional<ArchiveEntry> content = i + 1 < entries.size() && !entries.get(i + 1).kind().isItem()
                    ? Optional.of(entries.get(i + 1)) : Optional.empty();
            JsonNode doc = ArchiveReader.parseStrict(json, next.get().content().readAllBytes(), meta.path());
            documents.check(meta.kind(), meta.name(), doc, content);
            ObjectNode moved = rewrite.apply(meta.kind(), (ObjectNode) doc);
            items.add(new Item(meta.kind(), meta.name(), forms.digest(moved), content.map(ArchiveEntry::sha256),
                    content.map(ArchiveEntry::size).orElse(0L),
                    meta.kind() == Kind.ACTION ? Optional.of(doc.path("exec").path("kind").asText()) : Optional.empty(),
                    meta.kind() == Kind.POLICY ? Optional.of(NamespacePolicy.fromJson(doc)) : Optional.empty()));
        }
    }

    private static void requireUtf8(InputStream code, ArchiveEntry meta) throws IOException {
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        char[] buf = new char[16 * 1024];
        try (Reader r = new InputStreamReader(code, utf8)) {
            while (r.read(buf) >= 0) {
                // decoding is the check
            }
        } catch (CharacterCodingException e) {
            throw new ArchiveException("the archive's code of action " + meta.name() + " is not UTF-8 text");
        }
    }

    ArchiveManifest manifest() {
        return manifest;
    }

    List<Item> items() {
        return items;
    }

    /** What to do with each entry when the archive is read again to be written. */
    @FunctionalInterface
    interface EntryHandler {
        void handle(ArchiveReader.Entry entry) throws IOException;
    }

    /** Reads the staged archive again, entry by entry, checked as the first time. */
    void replay(EntryHandler handler) throws IOException {
        try (InputStream in = Files.newInputStream(file); ArchiveReader reader = ArchiveReader.open(in, json)) {
            for (Optional<ArchiveReader.Entry> e = reader.next(); e.isPresent(); e = reader.next()) {
                handler.handle(e.get());
            }
            reader.finish();
        }
    }

    /** Reads a document entry of a replay (its bytes were checked when staged). */
    ObjectNode document(ArchiveReader.Entry entry) throws IOException {
        return (ObjectNode) ArchiveReader.parseStrict(json, entry.content().readAllBytes(), entry.meta().path());
    }

    @Override
    public void close() throws IOException {
        Files.deleteIfExists(file);
    }

    /** Copies everything read from the archive's source into the staging file, skipped bytes too. */
    private static final class Tee extends FilterInputStream {
        private final OutputStream copy;

        Tee(InputStream in, OutputStream copy) {
            super(in);
            this.copy = copy;
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                copy.write(b);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0) {
                copy.write(b, off, n);
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            byte[] buf = new byte[(int) Math.min(n, 8192)];
            int r = read(buf, 0, buf.length);
            return Math.max(r, 0);
        }

        /** Reads what is left (the zip directory) into the copy; refuses more than {@code max} bytes of it. */
        void drain(long max) throws IOException {
            byte[] buf = new byte[64 * 1024];
            long total = 0;
            for (int n; (n = read(buf, 0, buf.length)) >= 0; ) {
                total += n;
                if (total > max) {
                    throw new ArchiveException("the archive has more than " + max + " bytes after its last entry: it is not one Petrel wrote");
                }
            }
        }

        @Override
        public void close() throws IOException {
            copy.flush();
        }
    }
}
