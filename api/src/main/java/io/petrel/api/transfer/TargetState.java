package io.petrel.api.transfer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.StoredJson;
import io.petrel.api.auth.KeyRecord;
import io.petrel.api.blob.BlobManifest;
import io.petrel.api.entity.Collection;
import io.petrel.api.transfer.NamespaceArchive.Kind;
import io.petrel.store.KeyValue;
import io.petrel.store.ScanPage;
import io.petrel.store.ScanRequest;
import io.petrel.store.Store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

import static java.util.Objects.requireNonNull;

/**
 * What the namespace an archive goes into holds now, item by item, in archive form: enough to tell
 * what an import would create, overwrite, leave alone or delete, and to write each change at the
 * revision it was read at.
 */
final class TargetState {
    private static final int PAGE = 100;

    /** One item of the target: the revision it was read at, its archive form's digest, its content's digest and size, an action's code blob. */
    record Item(Kind kind, String name, long revision, String digest, Optional<String> contentSha, long contentSize,
                Optional<BlobManifest> codeBlob) {
        String label() {
            return kind.label(name);
        }
    }

    private final Map<Kind, Map<String, Item>> items;
    private final Map<String, Item> entitiesByName;
    private final long artifactUsage;
    private final Store store;
    private final ObjectMapper json;
    private final String ns;

    private TargetState(Store store, ObjectMapper json, String ns, Map<Kind, Map<String, Item>> items, long artifactUsage) {
        this.store = store;
        this.json = json;
        this.ns = ns;
        this.items = items;
        this.artifactUsage = artifactUsage;
        this.entitiesByName = new HashMap<>();
        for (Kind k : List.of(Kind.PACKAGE, Kind.ACTION, Kind.TRIGGER, Kind.RULE)) {
            items.get(k).values().forEach(i -> entitiesByName.put(i.name(), i));
        }
    }

    static TargetState read(Store store, ObjectMapper json, String ns) {
        requireNonNull(store, "store");
        requireNonNull(json, "json");
        ArchiveForms forms = new ArchiveForms(json);
        Map<Kind, Map<String, Item>> items = new EnumMap<>(Kind.class);
        for (Kind k : Kind.values()) {
            if (k.isItem()) {
                items.put(k, new LinkedHashMap<>());
            }
        }
        store.get(NamespaceKeys.policy(ns)).ifPresent(kv -> items.get(Kind.POLICY).put(Kind.POLICY_NAME, new Item(Kind.POLICY, Kind.POLICY_NAME,
                kv.modRevision(), forms.digest(forms.policy(StoredJson.tree(json, kv.value(), "policy of " + ns))), Optional.empty(), 0,
                Optional.empty())));
        for (Collection c : List.of(Collection.PACKAGES, Collection.ACTIONS, Collection.TRIGGERS, Collection.RULES)) {
            Kind kind = NamespaceExporter.kindOf(c);
            String prefix = NamespaceKeys.entities(ns, c);
            scan(store, prefix, kv -> {
                String name = kv.key().substring(prefix.length());
                ArchiveForms.Entity e = forms.entity(StoredJson.object(json, kv.value(), "entity " + kv.key()));
                items.get(kind).put(name, new Item(kind, name, kv.modRevision(), forms.digest(e.doc()), e.code().map(ArchiveForms.Code::sha256),
                        e.code().map(ArchiveForms.Code::size).orElse(0L),
                        e.code().filter(ArchiveForms.BlobCode.class::isInstance).map(b -> ((ArchiveForms.BlobCode) b).manifest())));
            });
        }
        scan(store, NamespaceKeys.KEYS, kv -> {
            KeyRecord r = key(json, kv);
            if (r.namespace().equals(ns)) {
                items.get(Kind.KEY).put(r.uuid(), new Item(Kind.KEY, r.uuid(), kv.modRevision(), forms.digest(forms.key(r)), Optional.empty(), 0,
                        Optional.empty()));
            }
        });
        String artifacts = NamespaceKeys.artifacts(ns);
        scan(store, artifacts, kv -> {
            String name = kv.key().substring(artifacts.length());
            ObjectNode meta = StoredJson.object(json, kv.value(), "artifact record " + kv.key());
            BlobManifest blob = BlobManifest.fromJson(meta.path("blob"));
            items.get(Kind.ARTIFACT).put(name, new Item(Kind.ARTIFACT, name, kv.modRevision(), forms.digest(forms.artifact(meta)),
                    Optional.of(blob.sha256()), blob.size(), Optional.empty()));
        });
        long usage = store.get(NamespaceKeys.artifactUsage(ns))
                .map(kv -> Long.parseLong(new String(kv.value(), StandardCharsets.US_ASCII).trim())).orElse(0L);
        return new TargetState(store, json, ns, items, usage);
    }

    private static KeyRecord key(ObjectMapper json, KeyValue kv) {
        try {
            return json.readValue(kv.value(), KeyRecord.class);
        } catch (IOException e) {
            throw new UncheckedIOException("key record " + kv.key() + " is unreadable", e);
        }
    }

    private static void scan(Store store, String prefix, Consumer<KeyValue> each) {
        ScanRequest req = ScanRequest.prefix(prefix, PAGE);
        while (true) {
            ScanPage page = store.scan(req);
            page.items().forEach(each);
            if (!page.more()) {
                return;
            }
            req = req.next(page);
        }
    }

    Optional<Item> get(Kind kind, String name) {
        return Optional.ofNullable(items.get(kind).get(name));
    }

    /** The entity of any collection that holds {@code name} (OpenWhisk names are unique across collections). */
    Optional<Item> entityNamed(String name) {
        return Optional.ofNullable(entitiesByName.get(name));
    }

    List<Item> all(Kind kind) {
        return new ArrayList<>(items.get(kind).values());
    }

    /** Bytes the namespace's artifacts take now. */
    long artifactUsage() {
        return artifactUsage;
    }

    /** The namespace a key of this region belongs to, if it belongs to another one than the target. */
    Optional<String> otherOwner(String uuid) {
        return store.get(NamespaceKeys.KEYS + uuid).map(kv -> key(json, kv).namespace()).filter(owner -> !owner.equals(ns));
    }
}
