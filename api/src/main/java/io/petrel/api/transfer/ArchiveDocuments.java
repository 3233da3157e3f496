package io.petrel.api.transfer;

import com.fasterxml.jackson.databind.JsonNode;
import io.petrel.api.ApiException;
import io.petrel.api.auth.Role;
import io.petrel.api.entity.EntityName;
import io.petrel.api.entity.Runtimes;
import io.petrel.api.namespace.NamespacePolicy;
import io.petrel.api.transfer.NamespaceArchive.Kind;

import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * Whether each item of an archive is a valid document of its kind, as the API would have stored it
 * in the archive's namespace: names, namespace paths, the shape of every field the API relies on,
 * known action kinds, code where a kind needs it and nowhere else. References to other namespaces
 * (sequence components, bindings, rule actions) are checked for form only: whether they exist in
 * the region an archive goes to cannot be known when it is written.
 */
final class ArchiveDocuments {
    private static final Pattern SEMVER = Pattern.compile("\\d+\\.\\d+\\.\\d+");
    private static final Pattern HEX32 = Pattern.compile("[0-9a-f]{32}");
    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");
    private static final int MAX_SEQUENCE_LENGTH = 50;

    private final ArchiveManifest manifest;
    private final String ns;

    ArchiveDocuments(ArchiveManifest manifest) {
        this.manifest = requireNonNull(manifest, "manifest");
        this.ns = manifest.namespace();
    }

    /** Checks {@code doc}, the item {@code name} of {@code kind}; {@code content} is the entry that follows it, if it has one. */
    void check(Kind kind, String name, JsonNode doc, Optional<ArchiveEntry> content) {
        String what = kind.label(name);
        try {
            if (!doc.isObject()) {
                throw invalid("it is not a JSON object");
            }
            switch (kind) {
                case POLICY -> policy(doc);
                case PACKAGE -> pkg(doc, name);
                case ACTION -> action(doc, name, content);
                case TRIGGER -> trigger(doc, name);
                case RULE -> rule(doc, name);
                case KEY -> key(doc, name);
                case ARTIFACT -> artifact(doc, name, content.orElseThrow());
                default -> throw new IllegalArgumentException(kind + " is not an item");
            }
            if (kind != Kind.ACTION && kind != Kind.ARTIFACT && content.isPresent()) {
                throw invalid("it is followed by " + content.get().path() + ", which only an action or artifact may be");
            }
        } catch (Invalid e) {
            throw new ArchiveException("the archive's " + what + " is not a valid " + kind.id() + ": " + e.getMessage());
        } catch (ApiException e) {
            throw new ArchiveException("the archive's " + what + " is not a valid " + kind.id() + ": " + e.getMessage());
        }
    }

    /** Why a document is not valid; turned into an {@link ArchiveException} naming it. */
    private static final class Invalid extends RuntimeException {
        Invalid(String message) {
            super(message, null, false, false);
        }
    }

    private static Invalid invalid(String message) {
        return new Invalid(message);
    }

    private static void policy(JsonNode doc) {
        NamespacePolicy.fromJson(doc);
    }

    /** The fields every entity has ({@code Docs.create}). */
    private void common(JsonNode doc, String namespacePath, String name) {
        if (!doc.path("namespace").asText("").equals(namespacePath) || !doc.path("namespace").isTextual()) {
            throw invalid("its namespace is " + doc.path("namespace") + ", where it must be \"" + namespacePath + "\"");
        }
        if (!doc.path("name").isTextual() || !doc.path("name").asText().equals(name)) {
            throw invalid("its name is " + doc.path("name") + ", where it must be \"" + name + "\"");
        }
        if (!doc.path("version").isTextual() || !SEMVER.matcher(doc.path("version").asText()).matches()) {
            throw invalid("its version " + doc.path("version") + " is not a semantic version like 0.0.1");
        }
        if (!doc.path("publish").isBoolean()) {
            throw invalid("publish must be true or false");
        }
        if (!doc.path("updated").isIntegralNumber()) {
            throw invalid("updated must be a time in milliseconds");
        }
        keyValues(doc, "annotations", true);
    }

    private static void keyValues(JsonNode doc, String field, boolean required) {
        JsonNode v = doc.get(field);
        if (v == null && !required) {
            return;
        }
        if (v == null || !v.isArray()) {
            throw invalid(field + " must be an array of {key, value}");
        }
        for (JsonNode item : v) {
            if (!item.isObject() || !item.path("key").isTextual()) {
                throw invalid("each of its " + field + " must be an object with a string key");
            }
        }
    }

    private void pkg(JsonNode doc, String name) {
        common(doc, ns, name);
        keyValues(doc, "parameters", true);
        JsonNode b = doc.get("binding");
        if (b == null || !b.isObject()) {
            throw invalid("binding must be an object ({} for a package that is not a binding)");
        }
        if (!b.isEmpty()) {
            if (!EntityName.isValidNamespace(b.path("namespace").asText(null)) || !NamespaceArchive.validEntityName(b.path("name").asText(null))) {
                throw invalid("its binding " + b + " must be {\"namespace\": ..., \"name\": ...}");
            }
            if (b.path("namespace").asText().equals(ns) && b.path("name").asText().equals(name)) {
                throw invalid("it is bound to itself");
            }
        }
    }

    private void action(JsonNode doc, String name, Optional<ArchiveEntry> code) {
        int slash = name.indexOf('/');
        String pkg = slash < 0 ? null : name.substring(0, slash);
        if (pkg != null && !manifest.present().of(Kind.PACKAGE).contains(pkg)) {
            throw invalid("it is in package " + pkg + ", which the namespace does not have");
        }
        common(doc, pkg == null ? ns : ns + "/" + pkg, name.substring(slash + 1));
        keyValues(doc, "parameters", true);
        JsonNode limits = doc.get("limits");
        if (limits == null || !limits.isObject()) {
            throw invalid("limits must be an object");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = limits.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isIntegralNumber()) {
                throw invalid("limits." + e.getKey() + " must be an integer");
            }
        }
        JsonNode exec = doc.get("exec");
        if (exec == null || !exec.isObject() || !exec.path("kind").isTextual()) {
            throw invalid("exec must be an object with a kind");
        }
        if (exec.has("code") || exec.has("codeBlob")) {
            throw invalid("its code must be in its own entry (" + Kind.ACTION_CODE.path(name) + "), not in its document");
        }
        if (exec.has("binary") && !exec.get("binary").isBoolean()) {
            throw invalid("exec.binary must be true or false");
        }
        String kind = exec.path("kind").asText();
        switch (kind) {
            case "sequence" -> {
                JsonNode components = exec.get("components");
                if (components == null || !components.isArray() || components.isEmpty() || components.size() > MAX_SEQUENCE_LENGTH) {
                    throw invalid("a sequence needs between 1 and " + MAX_SEQUENCE_LENGTH + " components");
                }
                for (JsonNode c : components) {
                    if (!c.isTextual() || !c.asText().startsWith("/")) {
                        throw invalid("sequence component " + c + " is not a fully qualified action name");
                    }
                    EntityName.parseQualified(c.asText(), ns);
                }
                if (code.isPresent()) {
                    throw invalid("a sequence has no code, but the archive holds " + code.get().path());
                }
            }
            case "blackbox" -> {
                if (!exec.path("image").isTextual() || exec.path("image").asText().isBlank()) {
                    throw invalid("a blackbox action needs an image");
                }
            }
            default -> {
                Optional<Runtimes.Kind> runtime = Runtimes.known().resolve(kind);
                if (runtime.isEmpty() || !runtime.get().kind().equals(kind)) {
                    throw invalid("its kind '" + kind + "' is not one this platform runs (" + Runtimes.known().validKindsText() + ")");
                }
                if (runtime.get().requiresMain() && !exec.path("main").isTextual()) {
                    throw invalid("kind " + kind + " requires 'main'");
                }
                if (code.isEmpty()) {
                    throw invalid("an action of kind " + kind + " needs code, and the archive holds none for it");
                }
            }
        }
    }

    private void trigger(JsonNode doc, String name) {
        common(doc, ns, name);
        keyValues(doc, "parameters", true);
        JsonNode limits = doc.get("limits");
        if (limits != null && !limits.isObject()) {
            throw invalid("limits must be an object");
        }
        JsonNode rules = doc.get("rules");
        if (rules == null) {
            return;
        }
        if (!rules.isObject()) {
            throw invalid("rules must be an object of rule names to {action, status}");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = rules.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String[] ref = e.getKey().split("/", -1);
            if (ref.length != 2 || !ref[0].equals(ns) || !NamespaceArchive.validEntityName(ref[1])) {
                throw invalid("its rules name '" + e.getKey() + "', which is not a rule of namespace " + ns);
            }
            String status = e.getValue().path("status").asText("");
            if (!status.equals("active") && !status.equals("inactive")) {
                throw invalid("rule " + e.getKey() + " has status " + e.getValue().path("status") + "; it must be active or inactive");
            }
            pathName(e.getValue().path("action"), "the action of rule " + e.getKey());
        }
    }

    private void rule(JsonNode doc, String name) {
        common(doc, ns, name);
        if (doc.has("status")) {
            throw invalid("a rule's status is kept by its trigger, not in the rule");
        }
        JsonNode trigger = doc.path("trigger");
        pathName(trigger, "its trigger");
        if (!trigger.path("path").asText().equals(ns)) {
            throw invalid("its trigger must be in namespace " + ns + ", not " + trigger.path("path"));
        }
        pathName(doc.path("action"), "its action");
    }

    /** A {@code {path, name}} reference: {@code path} a namespace or {@code namespace/package}. */
    private static void pathName(JsonNode ref, String what) {
        String[] path = ref.path("path").asText("").split("/", -1);
        boolean ok = ref.isObject() && ref.path("path").isTextual() && path.length <= 2 && EntityName.isValidNamespace(path[0])
                && (path.length == 1 || NamespaceArchive.validEntityName(path[1])) && NamespaceArchive.validEntityName(ref.path("name").asText(null));
        if (!ok) {
            throw invalid(what + " " + ref + " must be {\"path\": \"namespace[/package]\", \"name\": ...}");
        }
    }

    private static void key(JsonNode doc, String uuid) {
        if (!doc.path("uuid").asText("").equals(uuid)) {
            throw invalid("its uuid is " + doc.path("uuid") + ", where it must be \"" + uuid + "\"");
        }
        JsonNode role = doc.get("role");
        if (role == null || !(role.isNull() || role.isTextual())) {
            throw invalid("role must be a role name or null");
        }
        if (role.isTextual()) {
            Role.parse(role.asText());
        }
        if (!doc.path("created").isIntegralNumber()) {
            throw invalid("created must be a time in milliseconds");
        }
        if (!HEX32.matcher(doc.path("salt").asText("")).matches() || !HEX64.matcher(doc.path("hash").asText("")).matches()) {
            throw invalid("it needs a salt (32 hex digits) and a hash (64 hex digits)");
        }
    }

    private static void artifact(JsonNode doc, String name, ArchiveEntry data) {
        if (!doc.path("name").asText("").equals(name)) {
            throw invalid("its name is " + doc.path("name") + ", where it must be \"" + name + "\"");
        }
        if (!doc.path("size").isIntegralNumber() || doc.path("size").asLong() != data.size()) {
            throw invalid("its size is " + doc.path("size") + ", but its data (" + data.path() + ") has " + data.size() + " bytes");
        }
        if (!doc.path("sha256").asText("").equals(data.sha256())) {
            throw invalid("its sha256 is " + doc.path("sha256") + ", but its data's is " + data.sha256());
        }
        if (!doc.path("contentType").isTextual() || doc.path("contentType").asText().isBlank()) {
            throw invalid("it needs a contentType");
        }
        if (!doc.path("updated").isIntegralNumber()) {
            throw invalid("updated must be a time in milliseconds");
        }
    }
}
