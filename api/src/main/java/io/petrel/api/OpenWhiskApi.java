package io.petrel.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.activation.ActivationStore;
import io.petrel.api.activation.ActivationsApi;
import io.petrel.api.admin.AdminApi;
import io.petrel.api.artifact.ArtifactStore;
import io.petrel.api.artifact.ArtifactsApi;
import io.petrel.api.blob.BlobCollector;
import io.petrel.api.blob.BlobStore;
import io.petrel.api.auth.Authenticator;
import io.petrel.api.auth.Identity;
import io.petrel.api.auth.KeyRegistry;
import io.petrel.api.entity.ActionResolver;
import io.petrel.api.entity.EntityCache;
import io.petrel.api.entity.ActionsApi;
import io.petrel.api.invoke.Acceptances;
import io.petrel.api.invoke.ActionInvoke;
import io.petrel.api.invoke.ActionRunner;
import io.petrel.api.invoke.ActivationRecorder;
import io.petrel.api.invoke.Invocations;
import io.petrel.api.invoke.Throttle;
import io.petrel.api.entity.Call;
import io.petrel.api.entity.Catalog;
import io.petrel.api.entity.EntityName;
import io.petrel.api.entity.EntityStore;
import io.petrel.api.entity.PackagesApi;
import io.petrel.api.entity.RequestLog;
import io.petrel.api.entity.RulesApi;
import io.petrel.api.entity.Runtimes;
import io.petrel.api.entity.TriggersApi;
import io.petrel.api.http.Exchange;
import io.petrel.api.http.Router;
import io.petrel.api.namespace.NamespacePolicy;
import io.petrel.api.namespace.NamespaceRegistry;
import io.petrel.api.namespace.PolicyRegistry;
import io.petrel.api.transfer.NamespaceExporter;
import io.petrel.api.transfer.NamespaceImporter;
import io.petrel.api.transfer.PastStates;
import io.petrel.api.transfer.SyncPositions;
import io.petrel.api.transfer.TransferApi;
import io.petrel.api.web.WebActions;
import io.petrel.store.Store;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * The OpenWhisk REST API and Petrel's admin API over one store: routes every request to the part
 * that owns it. Built once per zone node.
 */
public final class OpenWhiskApi implements Router, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OpenWhiskApi.class);
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** The well-known development identities of OpenWhisk standalone, seeded only where configured. */
    public static final String GUEST_AUTH = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP";
    public static final String SYSTEM_AUTH = "789c46b1-71f6-4ed5-8c54-816aa4f8c502:abczO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP";

    /** OpenWhisk deployments commonly keep activations for a day. */
    public static final Duration DEFAULT_ACTIVATION_RETENTION = Duration.ofHours(24);

    /** An upload that sent nothing for this long is given up and its chunks released. */
    public static final Duration DEFAULT_UPLOAD_ABANDON_AFTER = Duration.ofMinutes(10);

    /**
     * How this zone's API runs: its zone name, the admin key if the admin API is on, how long
     * activations are kept, and after how long a stalled upload is given up.
     */
    public record Config(String zone, Optional<String> adminKey, Duration activationRetention, Duration uploadAbandonAfter) {
        public Config {
            requireNonNull(zone, "zone");
            requireNonNull(adminKey, "adminKey");
            requireNonNull(activationRetention, "activationRetention");
            requireNonNull(uploadAbandonAfter, "uploadAbandonAfter");
        }

        public Config(String zone, Optional<String> adminKey) {
            this(zone, adminKey, DEFAULT_ACTIVATION_RETENTION, DEFAULT_UPLOAD_ABANDON_AFTER);
        }

        public Config(String zone, Optional<String> adminKey, Duration activationRetention) {
            this(zone, adminKey, activationRetention, DEFAULT_UPLOAD_ABANDON_AFTER);
        }
    }

    /**
     * How this zone runs actions: the kinds its invoker can run, the runner (empty: an API-only node,
     * whose invocations get 503), the namespace throttles (made from a lookup of a namespace's limits),
     * and this process's incarnation (it names the zone's acceptances, so a restarted zone's old ones
     * are told from its own).
     */
    public record Execution(Runtimes runtimes, Optional<ActionRunner> runner, Function<Function<String, ObjectNode>, Throttle> throttle,
                            String incarnation) {
        public Execution {
            requireNonNull(runtimes, "runtimes");
            requireNonNull(runner, "runner");
            requireNonNull(throttle, "throttle");
            requireNonNull(incarnation, "incarnation");
        }

        /** No invoker: Petrel's declared kinds are accepted, invocations answer 503. */
        public static Execution none() {
            return new Execution(Runtimes.declared(), Optional.empty(), limits -> Throttle.NONE, "api-only");
        }
    }

    private final Config config;
    private final Authenticator authenticator;
    private final NamespaceRegistry namespaces;
    private final EntityStore entities;
    private final ActionsApi actions;
    private final PackagesApi packages;
    private final TriggersApi triggers;
    private final RulesApi rules;
    private final RequestLog requests;
    /** The largest body a retried write can carry: OpenWhisk's 48 MB of code, as base64. */
    private static final long REPLAYED_BODY_SKIPPED = 80L * 1024 * 1024;
    private final PolicyRegistry policies;
    private final Catalog catalog;
    private final ActivationStore activationStore;
    private final ActivationsApi activations;
    private final ArtifactStore artifactStore;
    private final ArtifactsApi artifacts;
    private final BlobCollector blobCollector;
    private final AdminApi admin;
    private final SyncPositions syncPositions;
    private final TransferApi transfers;
    private final byte[] swagger;
    private final Execution execution;
    private final ActivationRecorder recorder;
    private final Acceptances acceptances;
    private final Invocations invocations;
    private final ActionResolver resolver;
    private final EntityCache entityCache;
    private final WebActions web;

    public OpenWhiskApi(Config config, Store store, ObjectMapper json, LongSupplier clock) {
        this(config, store, json, clock, Optional.empty());
    }

    public OpenWhiskApi(Config config, Store store, ObjectMapper json, LongSupplier clock, Optional<PastStates> past) {
        this(config, store, json, clock, past, Execution.none());
    }

    /** With {@code past} (the region's backups), a namespace can be restored to its state at a past time. */
    public OpenWhiskApi(Config config, Store store, ObjectMapper json, LongSupplier clock, Optional<PastStates> past, Execution execution) {
        this.execution = requireNonNull(execution, "execution");
        this.config = requireNonNull(config, "config");
        requireNonNull(store, "store");
        requireNonNull(json, "json");
        requireNonNull(clock, "clock");
        SecureRandom random = new SecureRandom();
        KeyRegistry keys = new KeyRegistry(store, json, clock, random);
        this.authenticator = new Authenticator(store, json, clock, 1_000);
        this.namespaces = new NamespaceRegistry(store, keys, json, clock);
        BlobStore blobs = new BlobStore(store, json, clock, config.uploadAbandonAfter());
        this.entities = new EntityStore(store, json, blobs);
        this.policies = new PolicyRegistry(store, json);
        this.catalog = new Catalog(entities, clock);
        this.packages = new PackagesApi(entities, policies, clock);
        this.requests = new RequestLog(store, json, clock);
        this.activationStore = new ActivationStore(store, json, config.activationRetention(), clock,
                ns -> policies.cached(ns).storeActivations());
        this.entityCache = new EntityCache(store, entities);
        this.resolver = new ActionResolver(entities, entityCache, policies);
        this.recorder = new ActivationRecorder(config.zone(), activationStore, ActivationRecorder.DEFAULT_LINGER);
        this.acceptances = new Acceptances(store, json, config.zone(), execution.incarnation());
        this.invocations = new Invocations(config.zone(), execution.runner(), recorder, acceptances, resolver::withCode, clock);
        Throttle throttle = execution.throttle().apply(namespaces::cachedLimits);
        invocations.resolveComponentsWith((who, qualified) -> resolver.resolve(who, who.namespace(), qualified));
        this.actions = new ActionsApi(entities, packages, policies, execution.runtimes(), resolver,
                new ActionInvoke(invocations, throttle, execution.runtimes()), clock);
        this.web = new WebActions(invocations, resolver, authenticator, throttle, execution.runtimes());
        this.triggers = new TriggersApi(entities, invocations, resolver, throttle, clock);
        this.rules = new RulesApi(entities, clock);
        this.activations = new ActivationsApi(activationStore);
        this.artifactStore = new ArtifactStore(store, blobs, json, clock);
        this.artifacts = new ArtifactsApi(artifactStore, namespaces);
        // Collect a few times per abandon period, at most every 30 s.
        this.blobCollector = new BlobCollector(config.zone(), blobs,
                Duration.ofMillis(Math.min(30_000, config.uploadAbandonAfter().toMillis() / 4)));
        this.admin = new AdminApi(config.zone(), config.adminKey(), namespaces, keys, policies, this::deleteTenantData);
        // Exports and imports wait in the JVM's temporary folder while they are written or checked.
        Path spool = Path.of(System.getProperty("java.io.tmpdir"));
        this.syncPositions = new SyncPositions(store, json);
        this.transfers = new TransferApi(new NamespaceExporter(store, blobs, json, clock, config.zone(), spool),
                new NamespaceImporter(store, entities, blobs, policies, namespaces, syncPositions, json, clock, spool), syncPositions, spool,
                config.zone(), past, then -> new NamespaceExporter(then, new BlobStore(then, json, clock, config.uploadAbandonAfter()), json,
                        clock, config.zone(), spool));
        this.swagger = loadSwagger();
    }

    private static byte[] loadSwagger() {
        try (InputStream in = OpenWhiskApi.class.getResourceAsStream("openwhisk-apiv1-swagger.json")) {
            return in == null ? new byte[0] : in.readAllBytes();
        } catch (IOException e) {
            return new byte[0];
        }
    }

    /**
     * Creates the {@code guest} and {@code whisk.system} namespaces with OpenWhisk's default keys, and
     * the {@code /whisk.system/utils} package, where missing.
     */
    public void seedDevelopmentKeys() {
        for (String auth : List.of(GUEST_AUTH, SYSTEM_AUTH)) {
            String ns = auth == GUEST_AUTH ? "guest" : "whisk.system";
            String[] parts = auth.split(":");
            if (namespaces.ensure(ns, parts[0], parts[1])) {
                LOG.info("zone {}: development namespace {} created with OpenWhisk's well-known key {}", config.zone(), ns, parts[0]);
            }
        }
        int created = catalog.seed();
        if (created > 0) {
            LOG.info("zone {}: catalog package /whisk.system/utils seeded ({} entities)", config.zone(), created);
        }
    }

    private void deleteTenantData(String ns) {
        entities.deleteNamespace(ns);
        activationStore.deleteNamespace(ns);
        artifactStore.deleteNamespace(ns);
        policies.delete(ns);
        requests.deleteNamespace(ns);
        syncPositions.delete(ns);
    }

    @Override
    public void route(Exchange ex) throws Exception {
        List<String> s = ex.segments();
        if (s.isEmpty()) {
            requireGet(ex);
            ex.reply(200, rootInfo());
            return;
        }
        switch (s.get(0)) {
            case "ping" -> {
                requireGet(ex);
                ex.send(200, "text/plain; charset=UTF-8", "pong".getBytes());
            }
            case "api" -> {
                if (s.size() < 2 || !s.get(1).equals("v1")) {
                    throw ApiException.notFound();
                }
                apiV1(ex, s.subList(2, s.size()));
            }
            case "admin" -> {
                if (s.size() < 3 || !s.get(1).equals("v1") || !s.get(2).equals("namespaces")) {
                    throw ApiException.notFound();
                }
                admin.handle(ex, s.subList(3, s.size()));
            }
            default -> throw ApiException.notFound();
        }
    }

    private static void requireGet(Exchange ex) {
        if (!ex.method().equals("GET") && !ex.method().equals("HEAD")) {
            throw new ApiException(405, "HTTP method not allowed, supported methods: GET");
        }
    }

    private void apiV1(Exchange ex, List<String> s) throws Exception {
        if (s.isEmpty() || (s.size() == 1 && s.get(0).isEmpty())) {
            requireGet(ex);
            ex.reply(200, apiInfo());
            return;
        }
        switch (s.get(0)) {
            case "api-docs", "docs" -> {
                requireGet(ex);
                ex.send(200, "application/json", swagger);
                return;
            }
            case "web" -> {
                // Web actions are anonymous unless the action asks for a key: they authenticate themselves.
                web.handle(ex, s.subList(1, s.size()));
                return;
            }
            case "namespaces" -> {
            }
            default -> throw ApiException.notFound();
        }
        Identity who = authenticator.authenticate(ex.header("Authorization"));
        if (s.size() == 1 || (s.size() == 2 && s.get(1).isEmpty())) {
            requireGet(ex);
            ex.reply(200, NODES.arrayNode().add(who.namespace()));
            return;
        }
        String ns = s.get(1).equals("_") ? who.namespace() : s.get(1);
        if (!EntityName.isValidNamespace(ns)) {
            throw ApiException.badRequest(ApiException.BAD_NAME);
        }
        Call call = new Call(ex, who, ns, requests);
        if (s.size() == 2) {
            throw ApiException.notFound();
        }
        if (!who.role().allows(ex.method(), s.get(2))) {
            throw new ApiException(403, ApiException.FORBIDDEN + " (a '" + who.role().id() + "' key may not " + ex.method() + " "
                    + s.get(2) + ")");
        }
        List<String> rest = s.subList(3, s.size());
        Optional<String> requestId = ex.method().equals("GET") || ex.method().equals("HEAD") || isInvocation(ex.method(), s.get(2), rest)
                ? Optional.empty() : ex.clientRequestId();
        if (requestId.isEmpty()) {
            entity(call, s.get(2), rest);
            return;
        }
        // A retried write: answer what the first attempt answered, if it was applied.
        Optional<RequestLog.Replay> replay = requests.find(ns, requestId.get());
        if (replay.isEmpty()) {
            try {
                entity(call, s.get(2), rest);
                return;
            } catch (ApiException e) {
                replay = e.status() == 409 ? requests.find(ns, requestId.get()) : Optional.empty();
                if (replay.isEmpty()) {
                    throw e;
                }
            }
        }
        LOG.info("zone {}: request {} {} was applied before; answering as then", config.zone(), requestId.get(), ex.path());
        // The retry's body (up to 64 MB of base64 code) is still arriving: take it in, or the answer is lost with the connection.
        ex.discardUnreadBody(REPLAYED_BODY_SKIPPED);
        ex.reply(replay.get().status(), replay.get().body());
    }

    /**
     * An action's invocation or a trigger's fire. Neither records an answer for a retry with the same
     * request id (a gateway never retries an invocation that reached a zone), so looking one up would
     * only add a linearizable read to every invocation that came through a gateway.
     */
    private static boolean isInvocation(String method, String collection, List<String> rest) {
        return method.equals("POST") && !rest.isEmpty() && (collection.equals("actions") || collection.equals("triggers"));
    }

    private void entity(Call call, String collection, List<String> rest) throws Exception {
        Exchange ex = call.exchange();
        String ns = call.namespace();
        switch (collection) {
            case "actions" -> actions.handle(call, rest);
            case "packages" -> packages.handle(call, rest);
            case "triggers" -> triggers.handle(call, rest);
            case "rules" -> rules.handle(call, rest);
            case "activations" -> activations.handle(call, rest);
            case "artifacts" -> artifacts.handle(call, rest);
            case "export", "import", "sync", "restore" -> transfers.handle(call, collection, rest);
            case "limits" -> {
                requireGet(ex);
                call.requireOwn();
                ex.reply(200, limitsWithPolicy(ns));
            }
            case "policy" -> {
                call.requireOwn();
                switch (ex.method()) {
                    case "GET", "HEAD" -> ex.reply(200, policies.get(ns).toJson());
                    case "PUT" -> {
                        NamespacePolicy updated = policies.update(ns, ex.jsonObject(64 * 1024));
                        LOG.info("zone {}: policy of namespace {} changed by key {}", config.zone(), ns, call.who().uuid());
                        ex.reply(200, updated.toJson());
                    }
                    default -> throw new ApiException(405, "HTTP method not allowed, supported methods: GET, PUT");
                }
            }
            default -> throw ApiException.notFound();
        }
    }

    /** {@code GET /limits}: the numeric limits, with OpenWhisk's {@code allowedKinds} and {@code storeActivations} from the policy. */
    private ObjectNode limitsWithPolicy(String ns) {
        ObjectNode limits = namespaces.limits(ns);
        NamespacePolicy policy = policies.get(ns);
        policy.allowedKinds().ifPresent(kinds -> kinds.forEach(limits.putArray("allowedKinds")::add));
        limits.put("storeActivations", policy.storeActivations());
        return limits;
    }

    private static ObjectNode apiInfo() {
        ObjectNode info = NODES.objectNode();
        info.put("description", "OpenWhisk API");
        info.put("api_version", "1.0.0");
        info.put("api_version_path", "v1");
        info.put("build", "petrel");
        info.put("buildno", "0.1.0");
        info.putObject("swagger_paths").put("ui", "/docs").put("api-docs", "/api-docs");
        return info;
    }

    private ObjectNode rootInfo() {
        ObjectNode info = NODES.objectNode();
        info.put("description", "Petrel: an OpenWhisk-compatible functions platform");
        info.putObject("support").put("github", "https://github.com/petrel").put("slack", "");
        info.putArray("api_paths").add("/api/v1");
        ObjectNode limits = info.putObject("limits");
        limits.put("actions_per_minute", 60).put("triggers_per_minute", 60).put("concurrent_actions", 30)
                .put("sequence_length", 50).put("min_action_duration", 100).put("max_action_duration", 300_000)
                .put("min_action_memory", 128L * 1024 * 1024).put("max_action_memory", 512L * 1024 * 1024)
                .put("min_action_logsize", 0).put("max_action_logsize", 10L * 1024 * 1024);
        info.set("runtimes", execution.runtimes().manifest());
        return info;
    }

    /** Where the invoker records finished activations. */
    public ActivationStore activationStore() {
        return activationStore;
    }

    /** The activations the API has run (web actions use it too). */
    public Invocations invocations() {
        return invocations;
    }

    public ActionResolver resolver() {
        return resolver;
    }

    /**
     * Records the accepted activations of zone incarnations that {@code alive} says are gone
     * ({@code zone/incarnation}) as lost; returns how many.
     */
    public int recordLostActivations(java.util.function.Predicate<String> alive) {
        return acceptances.sweep(alive, activationStore);
    }

    /** Waits until the finished activations so far are written (tests, and a zone that stops). */
    public boolean flushActivations(long timeoutMillis) throws InterruptedException {
        return recorder.flush(timeoutMillis);
    }

    @Override
    public void close() {
        recorder.close();
        entityCache.close();
        namespaces.close();
        blobCollector.close();
        authenticator.close();
    }
}
