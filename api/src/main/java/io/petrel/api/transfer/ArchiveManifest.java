package io.petrel.api.transfer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.entity.EntityName;
import io.petrel.api.transfer.NamespaceArchive.Kind;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * An archive's {@code manifest.json}: what it is, where and when it was taken, and what is in it.
 *
 * @param namespace the source namespace
 * @param source    the source's identity (see {@link ArchiveSource})
 * @param created   when the export began
 * @param revision  the store revision read before the export began: every change up to it is in the
 *                  archive; a change made while the export ran may or may not be, and an export
 *                  {@code since} this revision has it again
 * @param since     for an incremental archive, the revision it continues from: it holds only the
 *                  items changed after it (empty: a full archive, which holds every item)
 * @param present   every item the namespace held, changed or not, so that an importer can delete
 *                  what was deleted at the source
 * @param entries   every entry after the manifest, in archive order
 */
public record ArchiveManifest(String namespace, ArchiveSource source, Instant created, long revision, OptionalLong since, Present present,
                              List<ArchiveEntry> entries) {

    /** The item kinds {@link Present} lists by name; the policy is there or not. */
    public static final List<Kind> LISTED = List.of(Kind.PACKAGE, Kind.ACTION, Kind.TRIGGER, Kind.RULE, Kind.KEY, Kind.ARTIFACT);

    public ArchiveManifest {
        requireNonNull(namespace, "namespace");
        requireNonNull(source, "source");
        requireNonNull(created, "created");
        requireNonNull(since, "since");
        requireNonNull(present, "present");
        entries = List.copyOf(entries);
    }

    /** The items a namespace held: whether it had a policy, and the names of each listed kind, in key order. */
    public record Present(boolean policy, Map<Kind, List<String>> names) {
        public Present {
            Map<Kind, List<String>> copy = new EnumMap<>(Kind.class);
            for (Kind k : LISTED) {
                copy.put(k, List.copyOf(names.getOrDefault(k, List.of())));
            }
            names = java.util.Collections.unmodifiableMap(copy);
        }

        public List<String> of(Kind kind) {
            return kind == Kind.POLICY ? (policy ? List.of(Kind.POLICY_NAME) : List.of()) : names.get(kind);
        }
    }

    public boolean incremental() {
        return since.isPresent();
    }

    /** How many items of each kind the archive holds (not how many the namespace has: see {@link #present}). */
    public Map<String, Integer> counts() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (Kind k : Kind.values()) {
            if (k.isItem()) {
                counts.put(k.folder(), 0);
            }
        }
        for (ArchiveEntry e : entries) {
            if (e.kind().isItem()) {
                counts.merge(e.kind().folder(), 1, Integer::sum);
            }
        }
        return counts;
    }

    public ObjectNode toJson() {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode n = f.objectNode();
        n.put("format", NamespaceArchive.FORMAT);
        n.put("formatVersion", NamespaceArchive.FORMAT_VERSION);
        n.put("namespace", namespace);
        n.putObject("source").put("id", source.id()).put("zone", source.zone());
        n.put("created", created.toString());
        n.put("revision", revision);
        if (since.isPresent()) {
            n.put("since", since.getAsLong());
        } else {
            n.putNull("since");
        }
        ObjectNode counts = n.putObject("counts");
        counts().forEach(counts::put);
        ObjectNode p = n.putObject("present");
        p.put("policy", present.policy());
        for (Kind k : LISTED) {
            ArrayNode a = p.putArray(k.folder());
            present.of(k).forEach(a::add);
        }
        ArrayNode a = n.putArray("entries");
        entries.forEach(e -> a.add(e.toJson()));
        return n;
    }

    /** Reads and checks a manifest: everything in it must be well-formed and agree with itself. */
    public static ArchiveManifest fromJson(JsonNode n) {
        if (n == null || !n.isObject()) {
            throw new ArchiveException("not a Petrel namespace archive: its manifest.json is not a JSON object");
        }
        String format = n.path("format").asText("");
        if (!format.equals(NamespaceArchive.FORMAT)) {
            throw new ArchiveException("not a Petrel namespace archive: its manifest.json says format '" + format + "', not '"
                    + NamespaceArchive.FORMAT + "'");
        }
        JsonNode version = n.get("formatVersion");
        if (version == null || !version.isIntegralNumber() || version.asInt() < 1) {
            throw new ArchiveException("the manifest has no valid formatVersion");
        }
        if (version.asInt() > NamespaceArchive.FORMAT_VERSION) {
            throw new ArchiveException("the archive is format version " + version.asInt() + ", written by a newer Petrel; this one reads version "
                    + NamespaceArchive.FORMAT_VERSION);
        }
        String namespace = n.path("namespace").asText("");
        if (!EntityName.isValidNamespace(namespace)) {
            throw new ArchiveException("the manifest's namespace '" + namespace + "' is not a valid namespace name");
        }
        JsonNode source = n.path("source");
        if (!source.path("id").isTextual() || source.path("id").asText().isBlank() || !source.path("zone").isTextual()) {
            throw new ArchiveException("the manifest has no valid source (id and zone)");
        }
        Instant created;
        try {
            created = Instant.parse(n.path("created").asText(""));
        } catch (DateTimeParseException e) {
            throw new ArchiveException("the manifest's created time '" + n.path("created").asText("") + "' is not an ISO-8601 instant");
        }
        long revision = number(n, "revision");
        OptionalLong since = OptionalLong.empty();
        if (n.has("since") && !n.get("since").isNull()) {
            long s = number(n, "since");
            if (s > revision) {
                throw new ArchiveException("the manifest's since (" + s + ") is after its revision (" + revision + ")");
            }
            since = OptionalLong.of(s);
        }
        List<ArchiveEntry> entries = entries(n.get("entries"));
        Present present = present(n.get("present"));
        ArchiveManifest m = new ArchiveManifest(namespace, new ArchiveSource(source.path("id").asText(), source.path("zone").asText()), created,
                revision, since, present, entries);
        m.checkConsistent(n.get("counts"));
        return m;
    }

    private static long number(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
            throw new ArchiveException("the manifest has no valid '" + field + "' (a non-negative integer)");
        }
        return v.asLong();
    }

    private static List<ArchiveEntry> entries(JsonNode a) {
        if (a == null || !a.isArray()) {
            throw new ArchiveException("the manifest has no 'entries' array");
        }
        List<ArchiveEntry> out = new ArrayList<>();
        Set<String> paths = new HashSet<>();
        for (int i = 0; i < a.size(); i++) {
            ArchiveEntry e = ArchiveEntry.fromJson(a.get(i), i);
            if (!paths.add(e.path()) || e.path().equals(NamespaceArchive.MANIFEST)) {
                throw new ArchiveException("the manifest lists '" + e.path() + "' twice");
            }
            out.add(e);
        }
        return out;
    }

    private static Present present(JsonNode p) {
        if (p == null || !p.isObject() || !p.path("policy").isBoolean()) {
            throw new ArchiveException("the manifest has no valid 'present' list");
        }
        Map<Kind, List<String>> names = new EnumMap<>(Kind.class);
        for (Kind k : LISTED) {
            JsonNode a = p.get(k.folder());
            if (a == null || !a.isArray()) {
                throw new ArchiveException("the manifest's present list has no '" + k.folder() + "' array");
            }
            Set<String> seen = new LinkedHashSet<>();
            for (JsonNode v : a) {
                if (!v.isTextual() || !k.validName(v.asText())) {
                    throw new ArchiveException("the manifest's present " + k.folder() + " holds " + v + ", which is not a legal name");
                }
                if (!seen.add(v.asText())) {
                    throw new ArchiveException("the manifest's present " + k.folder() + " lists '" + v.asText() + "' twice");
                }
            }
            names.put(k, List.copyOf(seen));
        }
        return new Present(p.path("policy").asBoolean(), names);
    }

    /** Content follows its item; every item is present; a full archive holds every present item; the counts add up. */
    private void checkConsistent(JsonNode declaredCounts) {
        Map<Kind, Set<String>> included = new EnumMap<>(Kind.class);
        for (int i = 0; i < entries.size(); i++) {
            ArchiveEntry e = entries.get(i);
            if (!e.kind().isItem()) {
                ArchiveEntry before = i == 0 ? null : entries.get(i - 1);
                if (before == null || before.kind().content() != e.kind() || !before.name().equals(e.name())) {
                    throw new ArchiveException("the manifest lists " + e.path() + " without its " + (e.kind() == Kind.ACTION_CODE ? "action" : "artifact")
                            + " right before it");
                }
                continue;
            }
            if (e.kind() == Kind.ARTIFACT && (i + 1 == entries.size() || entries.get(i + 1).kind() != Kind.ARTIFACT_DATA)) {
                throw new ArchiveException("the manifest lists artifact " + e.name() + " without its data right after it");
            }
            included.computeIfAbsent(e.kind(), k -> new HashSet<>()).add(e.name());
            if (!present.of(e.kind()).contains(e.name())) {
                throw new ArchiveException("the manifest holds " + e.kind().label(e.name()) + " but does not list it as present");
            }
        }
        // Actions, packages, triggers and rules share one name space in OpenWhisk.
        Map<String, Kind> entityNames = new java.util.HashMap<>();
        for (Kind k : List.of(Kind.PACKAGE, Kind.ACTION, Kind.TRIGGER, Kind.RULE)) {
            for (String name : present.of(k)) {
                Kind other = entityNames.putIfAbsent(name, k);
                if (other != null) {
                    throw new ArchiveException("the manifest lists '" + name + "' as both a " + other.id() + " and a " + k.id()
                            + "; a name belongs to one entity");
                }
            }
        }
        if (since.isEmpty()) {
            for (Kind k : Kind.values()) {
                if (k.isItem() && !new HashSet<>(present.of(k)).equals(included.getOrDefault(k, Set.of()))) {
                    throw new ArchiveException("the manifest lists " + k.folder() + " as present that a full archive does not hold");
                }
            }
        }
        if (declaredCounts == null || !declaredCounts.isObject()) {
            throw new ArchiveException("the manifest has no 'counts'");
        }
        for (Map.Entry<String, Integer> c : counts().entrySet()) {
            if (declaredCounts.path(c.getKey()).asInt(-1) != c.getValue()) {
                throw new ArchiveException("the manifest counts " + declaredCounts.path(c.getKey()) + " " + c.getKey() + " but lists "
                        + c.getValue());
            }
        }
    }
}
