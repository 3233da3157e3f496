package io.petrel.dr;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.backup.target.BackupTarget;
import io.petrel.backup.target.NoSuchObjectException;
import io.petrel.backup.target.ObjectInfo;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import static java.util.Objects.requireNonNull;

/**
 * The witness's records, on the backup target under {@code dr/}: one object per fencing epoch
 * ({@code dr/epochs/<epoch>.json}, created only if absent, so two regions can never both claim one),
 * each region's heartbeat ({@code dr/heartbeats/<region>.json}, rewritten every second by its leader)
 * and the standbys that follow ({@code dr/standbys/<region>.json}).
 *
 * <p>The current epoch is the highest one that exists; a region acknowledges epoch {@code e} as long as
 * {@code e + 1} does not exist, which is one cheap existence check.
 */
public final class EpochLedger {
    static final String EPOCHS = "dr/epochs/";
    static final String HEARTBEATS = "dr/heartbeats/";
    static final String STANDBYS = "dr/standbys/";
    private static final ObjectMapper JSON = new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final BackupTarget target;

    public EpochLedger(BackupTarget target) {
        this.target = requireNonNull(target, "target");
    }

    /** Who holds epoch {@code epoch}: the region, its cluster, when and why it claimed it. */
    public record Epoch(long epoch, String region, String clusterId, long claimedAtMillis, String reason) {
        public Epoch {
            requireNonNull(region, "region");
            requireNonNull(clusterId, "clusterId");
            if (epoch < 1) {
                throw new IllegalArgumentException("epochs start at 1, not " + epoch);
            }
        }

        boolean heldBy(String otherRegion, String otherCluster) {
            return region.equals(otherRegion) && clusterId.equals(otherCluster);
        }
    }

    /**
     * A region's sign of life: its leader rewrites it every second or so with a new sequence number.
     * {@code rpoMillis} is how old its oldest committed entry not archived yet was (0: all archived).
     */
    public record Heartbeat(String region, String clusterId, String role, long epoch, long sequence, long sentAtMillis, long appliedIndex,
                            long archivedIndex, long rpoMillis) {
    }

    /** A standby region and where its zones answer acknowledgement requests. */
    public record Standby(String region, String clusterId, String follows, List<String> zonesHttp, long registeredAtMillis) {
        public Standby {
            zonesHttp = List.copyOf(zonesHttp);
        }
    }

    public String describe() {
        return target.describe();
    }

    public BackupTarget target() {
        return target;
    }

    /** The highest epoch claimed, if any was. */
    public Optional<Epoch> current() throws IOException {
        List<ObjectInfo> epochs = target.list(EPOCHS);
        for (int i = epochs.size() - 1; i >= 0; i--) {
            String name = epochs.get(i).name();
            if (name.endsWith(".json")) {
                return Optional.of(read(name, Epoch.class));
            }
        }
        return Optional.empty();
    }

    public Optional<Epoch> epoch(long epoch) throws IOException {
        try {
            return Optional.of(read(name(epoch), Epoch.class));
        } catch (NoSuchObjectException e) {
            return Optional.empty();
        }
    }

    /** Claims {@code epoch.epoch()}; false if some region (maybe this one, earlier) already holds it. */
    public boolean claim(Epoch epoch) throws IOException {
        return target.createIfAbsent(name(epoch.epoch()), JSON.writeValueAsBytes(epoch));
    }

    /** Whether an epoch after {@code epoch} was claimed: the acknowledgement a primary asks the witness for. */
    public boolean superseded(long epoch) throws IOException {
        return target.stat(name(epoch + 1)).isPresent();
    }

    public void beat(Heartbeat heartbeat) throws IOException {
        target.put(HEARTBEATS + heartbeat.region() + ".json", JSON.writeValueAsBytes(heartbeat));
    }

    public Optional<Heartbeat> heartbeat(String region) throws IOException {
        try {
            return Optional.of(read(HEARTBEATS + region + ".json", Heartbeat.class));
        } catch (NoSuchObjectException e) {
            return Optional.empty();
        }
    }

    public void register(Standby standby) throws IOException {
        target.put(STANDBYS + standby.region() + ".json", JSON.writeValueAsBytes(standby));
    }

    public void unregister(String region) throws IOException {
        target.delete(STANDBYS + region + ".json");
    }

    public List<Standby> standbys() throws IOException {
        List<Standby> out = new ArrayList<>();
        for (ObjectInfo o : target.list(STANDBYS)) {
            if (o.name().endsWith(".json")) {
                out.add(read(o.name(), Standby.class));
            }
        }
        return out;
    }

    /**
     * Whether this target refuses a second create of one name: true or false when it answered, empty
     * when it could not be asked (unreachable). A target that cannot (an S3 server that ignores
     * {@code If-None-Match}) cannot fence, and automatic failover is refused on it.
     */
    public Optional<Boolean> probeConditionalCreate() {
        String probe = "dr/probe/" + UUID.randomUUID() + ".json";
        try {
            boolean first = target.createIfAbsent(probe, new byte[] {'{', '}'});
            boolean second = target.createIfAbsent(probe, new byte[] {'{', '}'});
            return Optional.of(first && !second);
        } catch (UnsupportedOperationException e) {
            return Optional.of(false);
        } catch (IOException e) {
            return Optional.empty();
        } finally {
            try {
                target.delete(probe);
            } catch (IOException ignored) {
                // A leftover probe object is harmless.
            }
        }
    }

    private <T> T read(String name, Class<T> type) throws IOException {
        try (InputStream in = target.get(name)) {
            return JSON.readValue(in, type);
        } catch (NoSuchObjectException e) {
            throw e;
        } catch (IOException e) {
            throw new IOException("disaster-recovery record " + name + " in " + target.describe() + " cannot be read: " + e.getMessage(), e);
        }
    }

    static String name(long epoch) {
        return EPOCHS + String.format("%020d", epoch) + ".json";
    }
}
