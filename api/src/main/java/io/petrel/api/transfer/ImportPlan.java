package io.petrel.api.transfer;

import io.petrel.api.ApiException;
import io.petrel.api.namespace.NamespacePolicy;
import io.petrel.api.transfer.ImportOptions.OnConflict;
import io.petrel.api.transfer.NamespaceArchive.Kind;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * What an import will do with every item, decided from the staged archive and the target's state
 * before anything is written, with every reason to refuse it: conflicts under {@code fail}, keys of
 * other namespaces, an incremental archive that does not continue the target's copy, the artifact
 * quota, action kinds the resulting policy does not allow.
 */
final class ImportPlan {
    /** Deletions go dependants first: rules before triggers, actions before their packages. */
    private static final List<Kind> DELETE_ORDER = List.of(Kind.RULE, Kind.ACTION, Kind.TRIGGER, Kind.PACKAGE, Kind.ARTIFACT, Kind.KEY, Kind.POLICY);
    private static final Set<Kind> ENTITIES = Set.of(Kind.PACKAGE, Kind.ACTION, Kind.TRIGGER, Kind.RULE);
    private static final int NAMES_IN_ERRORS = 10;

    enum Action { CREATE, OVERWRITE, UNCHANGED, SKIP }

    /**
     * What happens to one archive item: {@code existing} is the target's item of the same kind and
     * name; {@code displaced}, an entity of another collection holding the same name, which goes first.
     */
    record Step(Action action, Kind kind, String name, Optional<TargetState.Item> existing, Optional<TargetState.Item> displaced) {
        boolean writes() {
            return action == Action.CREATE || action == Action.OVERWRITE;
        }
    }

    private final List<TargetState.Item> deletions;
    private final Map<String, Step> steps;
    private final List<String> kept;
    private final OnConflict onConflict;

    private ImportPlan(List<TargetState.Item> deletions, Map<String, Step> steps, List<String> kept, OnConflict onConflict) {
        this.deletions = deletions;
        this.steps = steps;
        this.kept = kept;
        this.onConflict = onConflict;
    }

    /**
     * Decides, or refuses with the answer the API gives: 409 (conflicts, keys of other namespaces, an
     * incremental archive that does not fit), 413 (quota), 403 (kinds), 400 (an incremental archive
     * not imported with replace).
     */
    static ImportPlan make(StagedArchive staged, TargetState target, ImportOptions options, Optional<SyncPositions.Position> position,
                           NamespacePolicy currentPolicy, long quota) {
        requireNonNull(staged, "staged");
        ArchiveManifest m = staged.manifest();
        String ns = options.namespace();
        OnConflict policy = options.onConflict();
        if (m.incremental()) {
            requireContinues(staged, target, options, position);
        }
        List<TargetState.Item> deletions = new ArrayList<>();
        Set<String> deleted = new HashSet<>();
        List<String> kept = new ArrayList<>();
        if (policy == OnConflict.REPLACE) {
            for (Kind k : DELETE_ORDER) {
                if (k == Kind.KEY && !options.keys()) {
                    continue;
                }
                Set<String> present = new HashSet<>(m.present().of(k));
                for (TargetState.Item t : target.all(k)) {
                    if (present.contains(t.name())) {
                        continue;
                    }
                    if (k == Kind.KEY && options.callerKey().equals(Optional.of(t.name()))) {
                        kept.add(t.label());
                    } else {
                        deletions.add(t);
                        deleted.add(t.label());
                    }
                }
            }
        }
        Map<String, Step> steps = new java.util.LinkedHashMap<>();
        List<String> conflicts = new ArrayList<>();
        List<String> foreign = new ArrayList<>();
        for (StagedArchive.Item item : staged.items()) {
            if (item.kind() == Kind.KEY && !options.keys()) {
                continue;
            }
            if (item.kind() == Kind.KEY) {
                Optional<String> owner = target.otherOwner(item.name());
                if (owner.isPresent()) {
                    if (policy == OnConflict.SKIP) {
                        steps.put(item.label(), new Step(Action.SKIP, item.kind(), item.name(), Optional.empty(), Optional.empty()));
                    } else {
                        foreign.add(item.label() + " (of namespace " + owner.get() + ")");
                    }
                    continue;
                }
            }
            Optional<TargetState.Item> existing = target.get(item.kind(), item.name());
            Optional<TargetState.Item> displaced = ENTITIES.contains(item.kind())
                    ? target.entityNamed(item.name()).filter(o -> o.kind() != item.kind()).filter(o -> !deleted.contains(o.label()))
                    : Optional.empty();
            Action action;
            if (existing.isEmpty() && displaced.isEmpty()) {
                action = Action.CREATE;
            } else if (existing.isPresent() && same(item, existing.get())) {
                action = Action.UNCHANGED;
            } else {
                action = switch (policy) {
                    case SKIP -> Action.SKIP;
                    case FAIL -> {
                        conflicts.add(displaced.map(d -> item.label() + " (a " + d.kind().id() + " has that name)").orElse(item.label()));
                        yield Action.SKIP;
                    }
                    case OVERWRITE, REPLACE -> existing.isPresent() ? Action.OVERWRITE : Action.CREATE;
                };
            }
            steps.put(item.label(), new Step(action, item.kind(), item.name(), existing, displaced));
        }
        if (!conflicts.isEmpty()) {
            throw ApiException.conflict("The archive conflicts with " + conflicts.size() + " item(s) namespace " + ns + " holds with other content: "
                    + some(conflicts) + ". Import with onConflict=skip, overwrite or replace; nothing was changed.");
        }
        if (!foreign.isEmpty()) {
            throw ApiException.conflict("The archive holds key(s) that belong to other namespaces of this region: " + some(foreign)
                    + ". A key is never moved between namespaces: import with onConflict=skip, or without keys (keys=false); nothing was changed.");
        }
        ImportPlan plan = new ImportPlan(deletions, steps, kept, policy);
        plan.requireQuota(staged, target, ns, quota);
        plan.requireAllowedKinds(staged, currentPolicy, ns);
        return plan;
    }

    private static boolean same(StagedArchive.Item item, TargetState.Item t) {
        return item.digest().equals(t.digest()) && item.contentSha().equals(t.contentSha());
    }

    /** An incremental archive applies only, with replace, to the copy it continues, and only if that copy lacks nothing unchanged. */
    private static void requireContinues(StagedArchive staged, TargetState target, ImportOptions options, Optional<SyncPositions.Position> position) {
        ArchiveManifest m = staged.manifest();
        long since = m.since().getAsLong();
        String ns = options.namespace();
        if (options.onConflict() != OnConflict.REPLACE) {
            throw ApiException.badRequest("This archive holds only what changed in namespace " + m.namespace() + " after revision " + since
                    + ": it can be imported only with onConflict=replace, into the copy it continues.");
        }
        boolean continues = position.isPresent() && position.get().sourceId().equals(m.source().id())
                && position.get().sourceNamespace().equals(m.namespace()) && position.get().revision() >= since;
        if (!continues) {
            throw ApiException.conflict("Namespace " + ns + " is not the copy this archive continues (the changes of namespace " + m.namespace()
                    + " after revision " + since + "): " + position.map(p -> "it holds namespace " + p.sourceNamespace() + " as of revision "
                    + p.revision() + (p.sourceId().equals(m.source().id()) ? "" : " of another source"))
                    .orElse("it was never made a copy by a replace import") + ". Send a full archive; nothing was changed.");
        }
        Set<String> included = new HashSet<>();
        staged.items().forEach(i -> included.add(i.label()));
        List<String> missing = new ArrayList<>();
        for (Kind k : Kind.values()) {
            if (!k.isItem() || (k == Kind.KEY && !options.keys())) {
                continue;
            }
            for (String name : m.present().of(k)) {
                if (!included.contains(k.label(name)) && target.get(k, name).isEmpty()) {
                    missing.add(k.label(name));
                }
            }
        }
        if (!missing.isEmpty()) {
            throw ApiException.conflict("Namespace " + ns + " lacks " + missing.size() + " item(s) that did not change at the source since revision "
                    + since + " (" + some(missing) + "): it was changed since it was synced. Send a full archive; nothing was changed.");
        }
        // An item written after the last sync was written by someone else: a delta would leave it as it is, unlike the source's.
        List<String> changed = new ArrayList<>();
        for (Kind k : Kind.values()) {
            if (k.isItem() && !(k == Kind.KEY && !options.keys())) {
                target.all(k).stream().filter(t -> t.revision() > position.get().targetRevision())
                        .filter(t -> !(t.kind() == Kind.KEY && options.callerKey().equals(Optional.of(t.name()))))
                        .forEach(t -> changed.add(t.label()));
            }
        }
        if (!changed.isEmpty()) {
            throw ApiException.conflict("Namespace " + ns + " was changed since it was synced (" + some(changed) + "): a delta would not make it"
                    + " the source's again. Send a full archive; nothing was changed.");
        }
    }

    /** Each artifact write is held to the quota the way the API holds an upload: what grows must fit. */
    private void requireQuota(StagedArchive staged, TargetState target, String ns, long quota) {
        long usage = target.artifactUsage();
        for (TargetState.Item d : deletions) {
            if (d.kind() == Kind.ARTIFACT) {
                usage -= d.contentSize();
            }
        }
        for (StagedArchive.Item item : staged.items()) {
            Step step = steps.get(item.label());
            if (item.kind() != Kind.ARTIFACT || step == null || !step.writes()) {
                continue;
            }
            long delta = item.contentSize() - step.existing().map(TargetState.Item::contentSize).orElse(0L);
            usage += delta;
            if (delta > 0 && usage > quota) {
                throw new ApiException(413, "The archive's artifacts would take " + usage + " bytes or more in namespace " + ns
                        + ", above its artifact quota of " + quota + " bytes (" + target.artifactUsage() + " bytes in use); nothing was changed.");
            }
        }
    }

    /** The actions written must be of kinds the namespace's policy allows once the import is done, as the API requires of a PUT. */
    private void requireAllowedKinds(StagedArchive staged, NamespacePolicy currentPolicy, String ns) {
        NamespacePolicy after = currentPolicy;
        for (StagedArchive.Item item : staged.items()) {
            Step step = steps.get(item.label());
            if (item.kind() == Kind.POLICY && step != null && step.writes()) {
                after = item.policy().orElseThrow();
            }
        }
        if (deletions.stream().anyMatch(d -> d.kind() == Kind.POLICY)) {
            after = NamespacePolicy.DEFAULT;
        }
        for (StagedArchive.Item item : staged.items()) {
            Step step = steps.get(item.label());
            String kind = item.actionKind().orElse("sequence");
            if (item.kind() == Kind.ACTION && step != null && step.writes() && !kind.equals("sequence") && !after.allowsKind(kind)) {
                throw new ApiException(403, "The archive's " + item.label() + " is of kind '" + kind + "', which the policy of namespace " + ns
                        + " does not allow (allowed: " + after.allowedKinds().orElseThrow() + "); nothing was changed.");
            }
        }
    }

    private static String some(List<String> names) {
        return String.join(", ", names.subList(0, Math.min(NAMES_IN_ERRORS, names.size())))
                + (names.size() > NAMES_IN_ERRORS ? " and " + (names.size() - NAMES_IN_ERRORS) + " more" : "");
    }

    /** The target's items a replace deletes, dependants first. */
    List<TargetState.Item> deletions() {
        return deletions;
    }

    /** The step for an archive item; empty for an item that is not imported (keys, without keys). */
    Optional<Step> step(Kind kind, String name) {
        return Optional.ofNullable(steps.get(kind.label(name)));
    }

    java.util.Collection<Step> steps() {
        return steps.values();
    }

    ImportReport report(ArchiveManifest archive, ImportOptions options) {
        Map<Action, List<String>> by = new HashMap<>();
        for (Action a : Action.values()) {
            by.put(a, new ArrayList<>());
        }
        List<String> removed = new ArrayList<>();
        deletions.forEach(d -> removed.add(d.label()));
        for (Step s : steps.values()) {
            by.get(s.action()).add(s.kind().label(s.name()));
            s.displaced().filter(d -> s.writes()).ifPresent(d -> removed.add(d.label()));
        }
        return new ImportReport(options.namespace(), archive, onConflict, options.dryRun(), by.get(Action.CREATE), by.get(Action.OVERWRITE),
                by.get(Action.SKIP), removed, kept, by.get(Action.UNCHANGED).size());
    }
}
