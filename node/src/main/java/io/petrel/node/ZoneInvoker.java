package io.petrel.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.api.entity.Runtimes;
import io.petrel.container.ContainerFactory;
import io.petrel.container.Isolation;
import io.petrel.container.NetworkFence;
import io.petrel.invoker.ContainerPool;
import io.petrel.invoker.LocalInvoker;
import io.petrel.invoker.PoolConfig;
import io.petrel.node.placement.Placement;
import io.petrel.runtimes.RuntimeCatalog;
import io.petrel.runtimes.RuntimeKind;
import io.petrel.store.Store;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * A zone's invoker, assembled: the kinds this machine runs, the container factory with the strongest
 * isolation it has, the pool, the local runner, and the placement that sends work to other zones
 * when this one is full.
 */
final class ZoneInvoker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ZoneInvoker.class);

    private final RuntimeCatalog catalog;
    private final ContainerPool pool;
    private final LocalInvoker local;
    private final Placement placement;
    private final Runtimes runtimes;

    private ZoneInvoker(RuntimeCatalog catalog, ContainerPool pool, LocalInvoker local, Placement placement, Runtimes runtimes) {
        this.catalog = requireNonNull(catalog, "catalog");
        this.pool = requireNonNull(pool, "pool");
        this.local = requireNonNull(local, "local");
        this.placement = requireNonNull(placement, "placement");
        this.runtimes = requireNonNull(runtimes, "runtimes");
    }

    /**
     * The folder of launchers and containers: never inside the data folder, and on a path every
     * container user can traverse (a data folder's parents are often private), so by default under
     * the system's temporary folder, named after the data folder so that two regions never share one.
     */
    static Path containersRoot(NodeConfig config) {
        Path data = config.dataDir().toAbsolutePath().normalize();
        String id = HexFormat.of().formatHex(sha256(data.toString())).substring(0, 12);
        return config.invoker().containersDir()
                .orElse(Path.of(System.getProperty("java.io.tmpdir"), "petrel-containers", config.zone() + "-" + id));
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static ZoneInvoker start(NodeConfig config, Store store, ObjectMapper json, String incarnation, String apiHost) throws IOException {
        Path root = containersRoot(config);
        Files.createDirectories(root.getParent());
        // Others may traverse (not list) the shared parent: containers run as their own users.
        Files.setPosixFilePermissions(root.getParent(), PosixFilePermissions.fromString("rwx--x--x"));
        Files.createDirectories(root);
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx--x--x"));
        RuntimeCatalog catalog = RuntimeCatalog.detect(root.resolve("runtimes"));
        Isolation isolation = ContainerFactory.detectIsolation();
        ContainerFactory factory = new ContainerFactory(catalog, root.resolve("work"), isolation, config.zone());
        // Actions call the API like any client; the zones' other ports (store voters, nodes) are not theirs to reach.
        List<String> regionHosts = new ArrayList<>(List.of(config.httpHost(), config.api().host()));
        config.peers().forEach(p -> regionHosts.add(p.host()));
        NetworkFence.install(config.zone(), isolation, regionHosts, config.api().port());
        PoolConfig poolConfig = PoolConfig.parse(config.invoker().pool(), k -> catalog.resolve(k).map(RuntimeKind::kind));
        Map<String, String> env = Map.of("__OW_API_HOST", apiHost);
        ContainerPool pool = new ContainerPool(config.zone(), poolConfig, (kind, memoryMb, concurrency) -> factory.start(kind, memoryMb, concurrency, env));
        pool.start();
        LocalInvoker local = new LocalInvoker(config.zone(), catalog, pool);
        String nodeUrl = "http://" + config.httpHost() + ":" + config.httpPort();
        Placement placement = new Placement(store, json, config.zone(), incarnation, nodeUrl, local, pool::availableMb);
        LOG.info("zone {}: invoker runs {} with {} MB for containers, isolation {}, actions call the API at {}", config.zone(),
                catalog.kinds().stream().map(RuntimeKind::kind).toList(), poolConfig.memoryMb(), isolation.describe(), apiHost);
        return new ZoneInvoker(catalog, pool, local, placement, runtimesOf(catalog));
    }

    /** The API's view of the kinds: each of the catalog's, and each alias as a deprecated kind of its own. */
    static Runtimes runtimesOf(RuntimeCatalog catalog) {
        List<Runtimes.Kind> kinds = new ArrayList<>();
        for (RuntimeKind k : catalog.kinds()) {
            kinds.add(new Runtimes.Kind(k.kind(), k.family(), k.isDefault(), k.requiresMain(), false, k.concurrent()));
            for (String alias : k.aliases()) {
                kinds.add(new Runtimes.Kind(alias, k.family(), false, k.requiresMain(), true, k.concurrent()));
            }
        }
        return new Runtimes(kinds);
    }

    /** Starts publishing this zone's invoker to the region; once the node's HTTP port (where peers place runs) serves. */
    void startPlacement() {
        placement.start();
    }

    Runtimes runtimes() {
        return runtimes;
    }

    Placement placement() {
        return placement;
    }

    LocalInvoker local() {
        return local;
    }

    @Override
    public void close() {
        placement.close();
        local.close();
        pool.close();
    }
}
