package io.petrel.store.ratis;

import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.util.TimeDuration;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/** How a region's zones map onto one Ratis group, and how clients of that group are built. */
final class RatisGroup {
    private static final TimeDuration RETRY_SLEEP = TimeDuration.valueOf(50, TimeUnit.MILLISECONDS);

    private RatisGroup() {
    }

    static RaftGroup of(String region, List<Peer> peers) {
        return of(region, "", peers);
    }

    static RaftGroup of(String region, String clusterId, List<Peer> peers) {
        // The same region name and cluster id give the same group on every zone, with nothing to distribute.
        String name = "petrel-region:" + region + (clusterId.isEmpty() ? "" : "/cluster:" + clusterId);
        RaftGroupId id = RaftGroupId.valueOf(UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)));
        return RaftGroup.valueOf(id, peers.stream().map(RatisGroup::peer).toList());
    }

    static RaftPeer peer(Peer p) {
        return RaftPeer.newBuilder().setId(p.zone()).setAddress(p.address()).build();
    }

    static RaftPeerId peerId(String zone) {
        return RaftPeerId.valueOf(zone);
    }

    /** A client that tries once: for reads aimed at one particular zone, where the caller picks the next zone itself. */
    static RaftClient singleAttemptClient(RaftGroup group) {
        RaftProperties props = new RaftProperties();
        RaftConfigKeys.Rpc.setType(props, SupportedRpcType.GRPC);
        RaftClientConfigKeys.Rpc.setRequestTimeout(props, TimeDuration.valueOf(2, TimeUnit.SECONDS));
        return RaftClient.newBuilder()
                .setProperties(props)
                .setRaftGroup(group)
                .setClientId(ClientId.randomId())
                .setRetryPolicy(RetryPolicies.noRetry())
                .build();
    }

    static RaftClient client(RaftGroup group, StoreTuning tuning) {
        return client(group, tuning, null);
    }

    /**
     * A client that sends its first request to {@code leader} (when not null). A client that replaces a
     * spent one starts from what that one knew: a new client otherwise starts at the first zone, and if
     * that zone is frozen, every replacement spends a whole request timeout there before it looks further.
     */
    static RaftClient client(RaftGroup group, StoreTuning tuning, RaftPeerId leader) {
        RaftProperties props = new RaftProperties();
        RaftConfigKeys.Rpc.setType(props, SupportedRpcType.GRPC);
        RaftClientConfigKeys.Rpc.setRequestTimeout(props, TimeDuration.valueOf(2, TimeUnit.SECONDS));
        // Retries find the new leader after a failover; they carry the same call id, so the leader's
        // retry cache answers a write that was already committed instead of applying it again.
        int attempts = (int) Math.max(1, tuning.writeTimeout().toMillis() / RETRY_SLEEP.toLong(TimeUnit.MILLISECONDS));
        RaftClient.Builder builder = RaftClient.newBuilder()
                .setProperties(props)
                .setRaftGroup(group)
                .setClientId(ClientId.randomId())
                .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(attempts, RETRY_SLEEP));
        if (leader != null && group.getPeer(leader) != null) {
            builder.setLeaderId(leader);
        }
        return builder.build();
    }
}
