package io.petrel.dr;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.backup.BackupLayout;
import io.petrel.backup.BackupRepository;
import io.petrel.backup.Restorer;
import io.petrel.backup.format.SegmentManifest;
import io.petrel.backup.target.ObjectInfo;
import io.petrel.store.ratis.JournalEntry;
import io.petrel.store.ratis.RegionControl;
import io.petrel.store.ratis.RegionState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * Disaster recovery in one zone. Every zone of a primary renews its own fencing lease
 * ({@link RegionFence}) by asking the witnesses: the backup target (has a newer epoch been claimed?)
 * and the standby region's zones (do they still acknowledge this epoch?). The zone that leads its store
 * also drives the region: a primary's leader writes its heartbeat; a standby's leader applies the
 * primary's archive as it appears, probes the primary and, once it has been unreachable for
 * {@code dr.failover.ms}, promotes the region ({@link #promote}).
 *
 * <p>Promotion: stop acknowledging the old epoch (replicated role PROMOTING), apply everything archived,
 * claim the next epoch on the target (create-if-absent: only one region can), wait out the old
 * primary's lease, apply what it archived meanwhile, and only then take writes. An isolated primary
 * loses both witnesses and stops taking writes within its lease, before the standby's wait ends.
 */
public final class DrAgent implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DrAgent.class);
    private static final Duration ROLE_TIMEOUT = Duration.ofSeconds(10);
    private static final int REPLAY_CHUNK = 256;
    private static final ObjectMapper JSON = new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final DrConfig config;
    private final RegionControl control;
    private final RegionFence fence;
    private final EpochLedger ledger;
    private final BackupRepository repository;
    private final LongSupplier archivedIndex;
    private final LongSupplier rpoMillis;
    private final Runnable snapshotAfterPromotion;
    private final Clock clock;
    private final HttpClient http;
    private final ScheduledExecutorService loops;
    private final AtomicBoolean targetCheckRunning = new AtomicBoolean();
    private final AtomicBoolean peerCheckRunning = new AtomicBoolean();
    private final Object promotionLock = new Object();
    /** Whether the target refuses a second create of one name: null until a probe got a definite answer. */
    private volatile Boolean conditionalCreate;

    private volatile List<EpochLedger.Standby> standbys = List.of();
    private volatile long standbysReadNanos;
    private volatile Optional<EpochLedger.Epoch> newerEpoch = Optional.empty();
    private volatile long heartbeatSequence;
    private volatile long lastBeatNanos;
    private volatile long lastRegisteredNanos;
    private volatile long lastPrimarySeenNanos = System.nanoTime();
    private volatile EpochLedger.Heartbeat lastPrimaryBeat;
    private volatile long primaryArchived = -1;
    private volatile EpochLedger.Heartbeat primaryBeat;
    private volatile boolean led;
    private volatile String problem = "";

    public DrAgent(DrConfig config, RegionControl control, RegionFence fence, EpochLedger ledger, BackupRepository repository,
                   LongSupplier archivedIndex, LongSupplier rpoMillis, Runnable snapshotAfterPromotion, Optional<InetAddress> localAddress,
                   Clock clock) {
        this.config = requireNonNull(config, "config");
        this.control = requireNonNull(control, "control");
        this.fence = requireNonNull(fence, "fence");
        this.ledger = requireNonNull(ledger, "ledger");
        this.repository = requireNonNull(repository, "repository");
        this.archivedIndex = requireNonNull(archivedIndex, "archivedIndex");
        this.rpoMillis = requireNonNull(rpoMillis, "rpoMillis");
        this.snapshotAfterPromotion = requireNonNull(snapshotAfterPromotion, "snapshotAfterPromotion");
        this.clock = requireNonNull(clock, "clock");
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(Math.min(1000, config.lease().toMillis() / 3)));
        localAddress.ifPresent(b::localAddress);
        this.http = b.build();
        this.loops = Executors.newScheduledThreadPool(2, Thread.ofPlatform().daemon().name("petrel-dr-", 0).factory());
    }

    public void start() {
        loops.scheduleWithFixedDelay(this::renew, 0, config.renewEvery().toMillis(), TimeUnit.MILLISECONDS);
        loops.scheduleWithFixedDelay(this::drive, config.pollEvery().toMillis(), config.pollEvery().toMillis(), TimeUnit.MILLISECONDS);
        LOG.info("zone {}: disaster recovery on (witness {}, lease {} ms, failover after {} ms{})", control.zone(), ledger.describe(),
                config.lease().toMillis(), config.failoverAfter().toMillis(), config.manualFailover() ? ", manual failover only" : "");
    }

    public RegionFence fence() {
        return fence;
    }

    // ---------------------------------------------------------------------------------------------
    // The fencing lease: every zone of a primary, every renewal

    private void renew() {
        try {
            RegionState r = control.applied();
            if (r.role() != RegionState.Role.PRIMARY) {
                return;
            }
            long epoch = r.epoch();
            long sent = System.nanoTime();
            if (targetCheckRunning.compareAndSet(false, true)) {
                Thread.ofVirtual().name("dr-witness-target").start(() -> {
                    try {
                        if (ledger.superseded(epoch)) {
                            Optional<EpochLedger.Epoch> newer = ledger.current();
                            newerEpoch = newer;
                            fence.revoke("the backup target holds a newer epoch " + newer.map(e -> e.epoch() + " (region " + e.region() + ")")
                                    .orElse("") + ": this region is no longer the primary");
                        } else {
                            fence.acknowledged(epoch, sent);
                        }
                    } catch (IOException | RuntimeException e) {
                        fence.problem("the backup target did not answer: " + e.getMessage());
                    } finally {
                        targetCheckRunning.set(false);
                    }
                });
            }
            if (peerCheckRunning.compareAndSet(false, true)) {
                Thread.ofVirtual().name("dr-witness-standby").start(() -> {
                    try {
                        askStandbys(epoch, sent);
                    } finally {
                        peerCheckRunning.set(false);
                    }
                });
            }
        } catch (RuntimeException e) {
            LOG.debug("zone {}: lease renewal failed: {}", control.zone(), e.toString());
        }
    }

    private void askStandbys(long epoch, long sent) {
        if (System.nanoTime() - standbysReadNanos > TimeUnit.SECONDS.toNanos(5)) {
            try {
                standbys = ledger.standbys();
                standbysReadNanos = System.nanoTime();
            } catch (IOException e) {
                // Keep the last list: the standby may be reachable while the target is not.
            }
        }
        for (EpochLedger.Standby s : standbys) {
            if (s.region().equals(control.region())) {
                continue;
            }
            for (String zone : s.zonesHttp()) {
                try {
                    HttpResponse<String> reply = http.send(HttpRequest.newBuilder(URI.create("http://" + zone + "/admin/v1/dr/ack?region="
                                    + control.region() + "&epoch=" + epoch)).timeout(Duration.ofMillis(config.lease().toMillis() / 3)).GET().build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (reply.statusCode() == 200 && JSON.readTree(reply.body()).path("ack").asBoolean(false)) {
                        fence.acknowledged(epoch, sent);
                        return;
                    }
                } catch (IOException e) {
                    // Try the standby's next zone.
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /**
     * Whether this region acknowledges {@code epoch} of region {@code asking}: only a standby or a demoted
     * region does, and only for an epoch at least its own. Read linearizably, so that once a promotion's
     * first step is committed no zone of this region acknowledges the old epoch again.
     */
    public boolean acknowledges(String asking, long epoch) {
        RegionState r = control.current();
        return (r.role() == RegionState.Role.STANDBY || r.role() == RegionState.Role.DEMOTED) && epoch >= r.epoch()
                && !asking.equals(control.region());
    }

    // ---------------------------------------------------------------------------------------------
    // The leader drives the region

    private void drive() {
        try {
            if (!control.leads()) {
                led = false;
                return;
            }
            if (!led) {
                led = true;
                // A new leader gives the primary the whole failover time again.
                lastPrimarySeenNanos = System.nanoTime();
            }
            conditionalCreate();
            RegionState r = control.applied();
            switch (r.role()) {
                case SOLO -> takeFirstRole();
                case PRIMARY -> lead(r);
                case STANDBY -> follow(r);
                case PROMOTING -> promote(false, -1, "resuming a promotion a former leader began");
                case DEMOTED -> beat(r);
            }
        } catch (IOException | RuntimeException e) {
            noteProblem(e.getMessage());
        }
    }

    /** A region started with disaster recovery on: the first primary claims epoch 1; any other waits to be seeded as a standby. */
    private void takeFirstRole() throws IOException {
        Optional<EpochLedger.Epoch> current = ledger.current();
        if (current.isEmpty()) {
            EpochLedger.Epoch first = new EpochLedger.Epoch(1, control.region(), control.clusterId(), clock.millis(), "the first primary");
            if (!ledger.claim(first)) {
                return; // someone else was quicker: look again next time
            }
            current = Optional.of(first);
        }
        EpochLedger.Epoch e = current.get();
        if (e.heldBy(control.region(), control.clusterId())) {
            control.changeRole(RegionState.Role.PRIMARY, e.epoch(), control.region(), ROLE_TIMEOUT);
            LOG.info("zone {}: region {} is the primary in epoch {} (term {})", control.zone(), control.region(), e.epoch(), control.currentTerm());
        } else {
            control.changeRole(RegionState.Role.DEMOTED, e.epoch(), e.region(), ROLE_TIMEOUT);
            LOG.warn("zone {}: region {} (cluster {}) started while region {} holds epoch {}: it takes no writes; seed it as a standby "
                    + "(petrel region failback)", control.zone(), control.region(), control.clusterId(), e.region(), e.epoch());
        }
    }

    private void lead(RegionState r) throws IOException {
        Optional<EpochLedger.Epoch> newer = newerEpoch;
        if (newer.isPresent() && newer.get().epoch() > r.epoch()) {
            control.changeRole(RegionState.Role.DEMOTED, newer.get().epoch(), newer.get().region(), ROLE_TIMEOUT);
            LOG.warn("zone {}: region {} demoted: region {} holds epoch {} (this region held {}); it takes no writes", control.zone(),
                    control.region(), newer.get().region(), newer.get().epoch(), r.epoch());
            return;
        }
        beat(r);
    }

    private void beat(RegionState r) throws IOException {
        if (System.nanoTime() - lastBeatNanos < TimeUnit.SECONDS.toNanos(1)) {
            return;
        }
        lastBeatNanos = System.nanoTime();
        ledger.beat(new EpochLedger.Heartbeat(control.region(), control.clusterId(), r.role().name(), r.epoch(), ++heartbeatSequence,
                clock.millis(), control.appliedIndex(), archivedIndex.getAsLong(), rpoMillis.getAsLong()));
    }

    // ---------------------------------------------------------------------------------------------
    // A standby follows

    private void follow(RegionState r) throws IOException {
        register(r);
        applyArchive(r, Long.MAX_VALUE);
        watchPrimary(control.applied());
    }

    private void register(RegionState r) throws IOException {
        if (System.nanoTime() - lastRegisteredNanos < TimeUnit.SECONDS.toNanos(5)) {
            return;
        }
        ledger.register(new EpochLedger.Standby(control.region(), control.clusterId(), r.primary(), config.selfHttp(), clock.millis()));
        lastRegisteredNanos = System.nanoTime();
    }

    /**
     * Applies the source's archived entries after the last one applied, up to {@code upTo}. Returns how
     * many it applied. Stops, saying why, at a gap (the source's archive broke: seed again) or a refusal.
     */
    private long applyArchive(RegionState r, long upTo) throws IOException {
        String cluster = r.sourceCluster();
        long next = r.sourceIndex() + 1;
        List<String> manifests = new ArrayList<>();
        long newest = -1;
        for (ObjectInfo o : repository.target().list(BackupLayout.log(cluster))) {
            var range = BackupLayout.segmentRange(o.name());
            if (range.isEmpty() || !o.name().endsWith(".json")) {
                continue;
            }
            newest = Math.max(newest, range.get()[1]);
            if (range.get()[1] >= next) {
                manifests.add(o.name());
            }
        }
        primaryArchived = newest;
        long applied = 0;
        Restorer reader = new Restorer(repository);
        for (String name : manifests) {
            if (next > upTo) {
                break;
            }
            SegmentManifest segment = repository.read(name, SegmentManifest.class);
            if (segment.lastIndex() < next) {
                continue;
            }
            if (segment.firstIndex() > next) {
                throw new IOException("the archive of cluster " + cluster + " has no entry " + next + " (its next segment starts at "
                        + segment.firstIndex() + "): the primary's archive broke, and this standby must be seeded again");
            }
            List<JournalEntry> entries = reader.fetchSegment(segment).stream().filter(e -> e.index() >= r.sourceIndex() + 1)
                    .filter(e -> e.index() <= upTo).toList();
            for (int i = 0; i < entries.size(); i += REPLAY_CHUNK) {
                List<JournalEntry> chunk = entries.subList(i, Math.min(entries.size(), i + REPLAY_CHUNK));
                RegionControl.Replayed result = control.replay(cluster, chunk, Duration.ofSeconds(30));
                applied += result.taken();
                if (!result.complete()) {
                    throw new IOException("entry " + chunk.get(result.taken()).index() + " of cluster " + cluster + " was refused: "
                            + result.refusal());
                }
            }
            next = Math.max(next, Math.min(segment.lastIndex(), upTo) + 1);
        }
        RegionState after = control.applied();
        if (after.divergence() != null) {
            throw new IOException("this standby diverged from cluster " + cluster + ": " + after.divergence());
        }
        return applied;
    }

    private void watchPrimary(RegionState r) {
        boolean seen = false;
        try {
            Optional<EpochLedger.Heartbeat> beat = ledger.heartbeat(r.primary());
            if (beat.isPresent()) {
                primaryBeat = beat.get();
                // A heartbeat counts once it changed since this leader first read it: an old one proves nothing.
                seen = lastPrimaryBeat != null && !beat.get().equals(lastPrimaryBeat);
                lastPrimaryBeat = beat.get();
            }
        } catch (IOException e) {
            noteProblem("the backup target did not answer: " + e.getMessage());
        }
        if (!seen) {
            seen = primaryAnswers();
        }
        if (seen) {
            lastPrimarySeenNanos = System.nanoTime();
            return;
        }
        long awayNanos = System.nanoTime() - lastPrimarySeenNanos;
        if (awayNanos < config.failoverAfter().toNanos() || config.manualFailover()) {
            return;
        }
        if (!conditionalCreate()) {
            noteProblem("the primary has been unreachable for " + TimeUnit.NANOSECONDS.toSeconds(awayNanos)
                    + " s, but the backup target cannot fence (no create-if-absent): promote by hand after making sure it is gone");
            return;
        }
        try {
            promote(false, -1, "region " + r.primary() + " unreachable for " + TimeUnit.NANOSECONDS.toMillis(awayNanos) + " ms");
        } catch (IOException | RuntimeException e) {
            noteProblem("automatic promotion failed: " + e.getMessage());
        }
    }

    /**
     * Probes the target once it answers (a target away at start must not disable failover for good);
     * only a definite answer is kept.
     */
    private boolean conditionalCreate() {
        Boolean known = conditionalCreate;
        if (known != null) {
            return known;
        }
        Optional<Boolean> probed = ledger.probeConditionalCreate();
        probed.ifPresent(works -> {
            conditionalCreate = works;
            if (!works) {
                LOG.warn("zone {}: the backup target {} cannot create an object only if it is absent: this region cannot fence, and a "
                        + "standby on it never promotes itself", control.zone(), ledger.describe());
            }
        });
        return probed.orElse(false);
    }

    private boolean primaryAnswers() {
        for (String zone : config.peerHealth()) {
            try {
                HttpResponse<Void> reply = http.send(HttpRequest.newBuilder(URI.create("http://" + zone + "/health/live"))
                        .timeout(Duration.ofSeconds(1)).GET().build(), HttpResponse.BodyHandlers.discarding());
                if (reply.statusCode() == 200) {
                    return true;
                }
            } catch (IOException e) {
                // The next zone.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }

    // ---------------------------------------------------------------------------------------------
    // Promotion and demotion

    /** What a promotion did: the epoch taken, the source's last entry applied, and how long each step took. */
    public record Promotion(long epoch, String sourceCluster, long sourceIndex, long entriesAfterClaim, long millis, long fencingWaitMillis) {
    }

    /**
     * Promotes this standby. {@code planned}: the primary demoted itself and archived up to
     * {@code upTo}, so there is no lease to wait out; otherwise everything archived is applied, the
     * next epoch claimed and the old primary's lease waited out. Refuses, saying why, if the target's
     * epoch is not held by the region and cluster this standby follows (a foreign target), or this
     * standby diverged.
     */
    public Promotion promote(boolean planned, long upTo, String reason) throws IOException {
        synchronized (promotionLock) {
            long started = System.nanoTime();
            RegionState r = control.current();
            if (r.role() == RegionState.Role.PRIMARY) {
                return new Promotion(r.epoch(), r.sourceCluster(), r.sourceIndex(), 0, 0, 0);
            }
            if (!r.replays()) {
                throw new IllegalStateException("region " + control.region() + " is " + r.role() + ", not a standby: it cannot be promoted");
            }
            if (r.divergence() != null) {
                throw new IllegalStateException("this standby diverged from its source (" + r.divergence() + "); it cannot be promoted");
            }
            EpochLedger.Epoch current = ledger.current().orElseThrow(() -> new IOException("the backup target " + ledger.describe()
                    + " holds no epoch: it is not the witness of region " + r.primary() + ", and this standby cannot promote from it"));
            boolean resumed = current.heldBy(control.region(), control.clusterId());
            if (!resumed && !(current.region().equals(r.primary()) && current.clusterId().equals(r.sourceCluster()))) {
                throw new IOException("the backup target says region " + current.region() + " (cluster " + current.clusterId() + ") holds epoch "
                        + current.epoch() + ", but this standby follows region " + r.primary() + " (cluster " + r.sourceCluster()
                        + "): refusing to promote from another region's target");
            }
            long newEpoch = resumed ? current.epoch() : current.epoch() + 1;
            if (r.role() == RegionState.Role.STANDBY) {
                control.changeRole(RegionState.Role.PROMOTING, r.epoch(), r.primary(), ROLE_TIMEOUT);
            }
            LOG.warn("zone {}: promoting region {} to epoch {} ({}; term {}): no longer acknowledging region {}", control.zone(),
                    control.region(), newEpoch, reason, control.currentTerm(), r.primary());
            if (planned) {
                catchUpTo(upTo, Duration.ofSeconds(60));
            } else {
                catchUp();
            }
            long sent = System.nanoTime();
            if (!resumed && !ledger.claim(new EpochLedger.Epoch(newEpoch, control.region(), control.clusterId(), clock.millis(), reason))) {
                EpochLedger.Epoch holder = ledger.epoch(newEpoch).orElseThrow();
                if (!holder.heldBy(control.region(), control.clusterId())) {
                    control.changeRole(RegionState.Role.STANDBY, r.epoch(), r.primary(), ROLE_TIMEOUT);
                    throw new IOException("region " + holder.region() + " claimed epoch " + newEpoch + " first; this region stays a standby");
                }
            }
            long claimed = System.nanoTime();
            long waited = 0;
            if (!planned) {
                // The old primary may have been acknowledged just before the claim: let its lease run out.
                long until = claimed + config.fencingWait().toNanos();
                while (System.nanoTime() < until) {
                    sleep(Math.min(100, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime()) + 1));
                }
                waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - claimed);
            }
            long before = control.applied().sourceIndex();
            if (!planned) {
                catchUp();
            }
            RegionState last = control.applied();
            fence.acknowledged(newEpoch, sent);
            control.changeRole(RegionState.Role.PRIMARY, newEpoch, control.region(), ROLE_TIMEOUT);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            LOG.warn("zone {}: region {} is the primary in epoch {}: took over from region {} at entry {} of cluster {} in {} ms "
                    + "(fencing wait {} ms; {} entries archived after the claim)", control.zone(), control.region(), newEpoch, r.primary(),
                    last.sourceIndex(), last.sourceCluster(), millis, waited, last.sourceIndex() - before);
            try {
                ledger.unregister(control.region());
            } catch (IOException e) {
                LOG.debug("zone {}: standby record not removed: {}", control.zone(), e.toString());
            }
            snapshotAfterPromotion.run();
            return new Promotion(newEpoch, last.sourceCluster(), last.sourceIndex(), last.sourceIndex() - before, millis, waited);
        }
    }

    private void catchUp() throws IOException {
        for (int pass = 0; pass < 100; pass++) {
            if (applyArchive(control.applied(), Long.MAX_VALUE) == 0) {
                return;
            }
        }
    }

    private void catchUpTo(long upTo, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (control.applied().sourceIndex() < upTo) {
            applyArchive(control.applied(), upTo);
            if (control.applied().sourceIndex() >= upTo) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("the primary's archive did not reach entry " + upTo + " within " + timeout.toSeconds() + " s (it holds "
                        + primaryArchived + "); this region stays a standby");
            }
            sleep(100);
        }
    }

    /** Where a demoted primary stopped: its epoch, cluster and the last entry it archived (the standby applies up to it). */
    public record Demotion(long epoch, String cluster, long lastIndex) {
    }

    /**
     * A planned switchover's first half, on the primary: stop taking writes (replicated role DEMOTED)
     * and wait until the archive holds every entry up to the demotion.
     */
    public Demotion demote(String successor, Duration timeout) throws IOException {
        RegionState r = control.current();
        if (r.role() != RegionState.Role.PRIMARY && r.role() != RegionState.Role.DEMOTED) {
            throw new IllegalStateException("region " + control.region() + " is " + r.role() + ", not the primary");
        }
        if (r.role() == RegionState.Role.PRIMARY) {
            control.changeRole(RegionState.Role.DEMOTED, r.epoch(), successor, ROLE_TIMEOUT);
            LOG.warn("zone {}: region {} demoted for a switchover to region {} (epoch {}, term {}): it takes no more writes", control.zone(),
                    control.region(), successor, r.epoch(), control.currentTerm());
        }
        long last = control.appliedIndex();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (archivedIndex.getAsLong() < last) {
            if (System.nanoTime() > deadline) {
                throw new IOException("the archive did not reach entry " + last + " within " + timeout.toSeconds() + " s (it holds "
                        + archivedIndex.getAsLong() + "); the region stays demoted: retry the switchover");
            }
            sleep(50);
        }
        return new Demotion(r.epoch(), control.clusterId(), last);
    }

    // ---------------------------------------------------------------------------------------------

    public DrStatus status() {
        RegionState r = control.applied();
        boolean writable = r.takesWrites() && fence.refusal(r).isEmpty();
        long lagEntries = -1;
        long lagMillis = -1;
        EpochLedger.Heartbeat beat = primaryBeat;
        if (r.replays() && beat != null) {
            // Behind the primary by what it has not archived yet (its RPO) plus what is archived but not applied here.
            long unapplied = Math.max(0, Math.max(beat.archivedIndex(), primaryArchived) - r.sourceIndex());
            lagEntries = Math.max(0, beat.appliedIndex() - r.sourceIndex());
            lagMillis = beat.rpoMillis() + (unapplied == 0 ? 0 : Math.max(0, beat.sentAtMillis() - r.sourceTime()));
        }
        long seenAgo = r.replays() ? TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastPrimarySeenNanos) : -1;
        boolean canFence = Boolean.TRUE.equals(conditionalCreate);
        long failoverIn = r.role() == RegionState.Role.STANDBY && !config.manualFailover() && canFence
                ? Math.max(0, config.failoverAfter().toMillis() - seenAgo) : -1;
        return new DrStatus(control.region(), control.zone(), control.leads(), r.role().name(), r.epoch(), r.primary(), writable,
                fence.remaining(r.epoch()).toMillis(), r.sourceCluster(), r.sourceIndex(), primaryArchived, lagEntries, lagMillis, seenAgo,
                failoverIn, config.manualFailover(), canFence, r.divergence(), problem);
    }

    private void noteProblem(String what) {
        String message = String.valueOf(what);
        if (!message.equals(problem)) {
            LOG.warn("zone {}: disaster recovery: {}", control.zone(), message);
        }
        problem = message;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(Math.max(1, millis));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public void close() {
        loops.shutdownNow();
        http.close();
    }
}
