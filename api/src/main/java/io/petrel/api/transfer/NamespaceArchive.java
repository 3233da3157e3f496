package io.petrel.api.transfer;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.api.ApiException;
import io.petrel.api.entity.EntityName;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * The portable archive of one namespace: a zip file whose first entry is {@code manifest.json}
 * ({@link ArchiveManifest}: format, version, source, revision, counts, the names present at the
 * source, and the size and SHA-256 of every other entry), then one entry per item in the order the
 * manifest lists them:
 *
 * <pre>
 *   manifest.json
 *   policy.json                      the security policy, if the namespace has one
 *   packages/&lt;name&gt;.json             a package document as stored
 *   actions/[&lt;pkg&gt;/]&lt;name&gt;.json       an action document as stored, without its code
 *   actions-code/[&lt;pkg&gt;/]&lt;name&gt;       its code (UTF-8), right after the document
 *   triggers/&lt;name&gt;.json, rules/&lt;name&gt;.json
 *   keys/&lt;uuid&gt;.json                 a key identity: uuid, role, created, salt, hash (never a secret)
 *   artifacts/&lt;name&gt;.json            an artifact's metadata (name, size, sha256, contentType, updated)
 *   artifacts-data/&lt;name&gt;            its bytes, right after the metadata
 * </pre>
 *
 * Every entry is deflated. Names come from the manifest, never from entry paths; a path must be
 * exactly what the manifest's kind and name give, so nothing in an archive can be read two ways.
 */
public final class NamespaceArchive {
    public static final String FORMAT = "petrel-namespace-archive";
    public static final int FORMAT_VERSION = 1;
    public static final String MANIFEST = "manifest.json";
    public static final String MEDIA_TYPE = "application/zip";

    static final int MAX_MANIFEST_BYTES = 64 * 1024 * 1024;
    /** A JSON document: the store keeps values of at most 2 MiB, so twice that is never a real one. */
    static final int MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;
    /** OpenWhisk's largest action code. */
    static final long MAX_CODE_BYTES = 48L * 1024 * 1024;
    static final int MAX_ARTIFACT_NAME_CHARS = 512;

    private static final Pattern UUID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

    private NamespaceArchive() {
    }

    /** The kinds of entries; items (what a namespace holds) and the content entries that follow some of them. */
    public enum Kind {
        POLICY("policy", "policy", ".json"),
        PACKAGE("package", "packages", ".json"),
        ACTION("action", "actions", ".json"),
        ACTION_CODE("action-code", "actions-code", ""),
        TRIGGER("trigger", "triggers", ".json"),
        RULE("rule", "rules", ".json"),
        KEY("key", "keys", ".json"),
        ARTIFACT("artifact", "artifacts", ".json"),
        ARTIFACT_DATA("artifact-data", "artifacts-data", "");

        /** The only name a policy entry has: a namespace has one policy. */
        public static final String POLICY_NAME = "policy";

        private final String id;
        private final String folder;
        private final String suffix;

        Kind(String id, String folder, String suffix) {
            this.id = id;
            this.folder = folder;
            this.suffix = suffix;
        }

        /** The kind's name in the manifest. */
        public String id() {
            return id;
        }

        /** The folder its entries are in, which is also how reports name an item ({@code actions/pkg/a}). */
        public String folder() {
            return folder;
        }

        public static Kind ofId(String id) {
            for (Kind k : values()) {
                if (k.id.equals(id)) {
                    return k;
                }
            }
            throw new ArchiveException("the manifest lists an entry of unknown kind '" + id + "'");
        }

        /** The entry path of the item {@code name} of this kind. */
        public String path(String name) {
            return this == POLICY ? "policy.json" : folder + "/" + name + suffix;
        }

        /** What a report calls an item: {@code policy}, {@code actions/pkg/a}, {@code keys/<uuid>}. */
        public String label(String name) {
            return this == POLICY ? POLICY_NAME : folder + "/" + name;
        }

        /** Whether this is an item of the namespace (not the content that follows one). */
        public boolean isItem() {
            return this != ACTION_CODE && this != ARTIFACT_DATA;
        }

        /** The content kind that may follow an item of this kind, or null. */
        Kind content() {
            return switch (this) {
                case ACTION -> ACTION_CODE;
                case ARTIFACT -> ARTIFACT_DATA;
                default -> null;
            };
        }

        /** The most bytes an entry of this kind may have; artifacts are bounded by the namespace's quota instead. */
        long maxBytes() {
            return switch (this) {
                case ACTION_CODE -> MAX_CODE_BYTES;
                case ARTIFACT_DATA -> Long.MAX_VALUE;
                default -> MAX_DOCUMENT_BYTES;
            };
        }

        /** Whether {@code name} is a legal name for an item of this kind. */
        public boolean validName(String name) {
            if (name == null || name.isEmpty()) {
                return false;
            }
            return switch (this) {
                case POLICY -> name.equals(POLICY_NAME);
                case PACKAGE, TRIGGER, RULE -> validEntityName(name);
                case ACTION, ACTION_CODE -> {
                    String[] parts = name.split("/", -1);
                    yield parts.length <= 2 && java.util.Arrays.stream(parts).allMatch(NamespaceArchive::validEntityName);
                }
                case KEY -> UUID.matcher(name).matches();
                case ARTIFACT, ARTIFACT_DATA -> name.length() <= MAX_ARTIFACT_NAME_CHARS
                        && java.util.Arrays.stream(name.split("/", -1)).allMatch(NamespaceArchive::validEntityName);
            };
        }
    }

    static boolean validEntityName(String name) {
        try {
            EntityName.require(name);
            return true;
        } catch (ApiException e) {
            return false;
        }
    }

    /**
     * Checks a whole archive file as far as its format goes (manifest, every entry's size and SHA-256,
     * the zip directory), without a store: what a client does before sending a file. Whether the
     * items are valid documents is checked by the importer.
     *
     * @throws ArchiveException saying what is wrong
     */
    public static ArchiveManifest verify(Path file, ObjectMapper json) throws IOException {
        ArchiveManifest manifest;
        java.util.List<ArchiveReader.DirectoryRecord> seen;
        try (InputStream in = Files.newInputStream(file); ArchiveReader reader = ArchiveReader.open(in, json)) {
            while (reader.next().isPresent()) {
                // Reading an entry to its end checks its size and digest.
            }
            reader.finish();
            manifest = reader.manifest();
            seen = reader.seen();
        }
        ArchiveReader.verifyDirectory(file, seen);
        return manifest;
    }
}
