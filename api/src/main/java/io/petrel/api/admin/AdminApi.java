package io.petrel.api.admin;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.ApiException;
import io.petrel.api.auth.KeyRecord;
import io.petrel.api.auth.KeyRegistry;
import io.petrel.api.auth.Role;
import io.petrel.api.http.Exchange;
import io.petrel.api.namespace.NamespacePolicy;
import io.petrel.api.namespace.NamespaceRegistry;
import io.petrel.api.namespace.PolicyRegistry;
import io.petrel.store.Op;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

import static java.util.Objects.requireNonNull;

/**
 * {@code /admin/v1/namespaces...}: namespaces, their keys and limits, for the operator. Every call
 * needs {@code Authorization: Bearer <admin key>}; without a configured admin key the admin API is off.
 */
public final class AdminApi {
    private static final Logger LOG = LoggerFactory.getLogger(AdminApi.class);
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final Optional<byte[]> adminKeySha256;
    private final NamespaceRegistry namespaces;
    private final KeyRegistry keys;
    private final PolicyRegistry policies;
    private final Consumer<String> deleteTenantData;
    private final String zone;

    public AdminApi(String zone, Optional<String> adminKey, NamespaceRegistry namespaces, KeyRegistry keys, PolicyRegistry policies,
                    Consumer<String> deleteTenantData) {
        this.policies = requireNonNull(policies, "policies");
        this.zone = requireNonNull(zone, "zone");
        this.adminKeySha256 = requireNonNull(adminKey, "adminKey").map(AdminApi::sha256);
        this.namespaces = requireNonNull(namespaces, "namespaces");
        this.keys = requireNonNull(keys, "keys");
        this.deleteTenantData = requireNonNull(deleteTenantData, "deleteTenantData");
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void authorize(Exchange ex) {
        if (adminKeySha256.isEmpty()) {
            throw new ApiException(403, "The admin API is not enabled on this node (no admin key is configured).");
        }
        String header = ex.header("Authorization").orElseThrow(() -> new ApiException(401, "The admin API requires 'Authorization: Bearer <admin key>'."));
        if (!header.regionMatches(true, 0, "Bearer ", 0, 7)
                || !MessageDigest.isEqual(adminKeySha256.get(), sha256(header.substring(7).trim()))) {
            throw new ApiException(401, "The supplied admin key is invalid.");
        }
    }

    /** {@code rest}: the path after {@code /admin/v1/namespaces}. */
    public void handle(Exchange ex, List<String> rest) throws IOException {
        authorize(ex);
        String m = ex.method();
        if (rest.isEmpty() || (rest.size() == 1 && rest.get(0).isEmpty())) {
            switch (m) {
                case "GET" -> {
                    ArrayNode out = NODES.arrayNode();
                    for (ObjectNode ns : namespaces.list()) {
                        ns.put("keys", keys.keysOf(ns.path("name").asText()).size());
                        out.add(ns);
                    }
                    ex.reply(200, out);
                }
                case "POST" -> {
                    String name = ex.jsonObject(64 * 1024).path("name").asText("");
                    KeyRegistry.IssuedKey k = namespaces.create(name);
                    LOG.info("zone {}: namespace {} created with key {}", zone, name, k.uuid());
                    ex.reply(201, issued(k));
                }
                default -> throw new ApiException(405, "HTTP method not allowed, supported methods: GET, POST");
            }
            return;
        }
        String ns = rest.get(0);
        if (rest.size() == 1) {
            switch (m) {
                case "GET" -> ex.reply(200, namespaces.get(ns).orElseThrow(ApiException::notFound));
                case "DELETE" -> {
                    if (!namespaces.deleteRecordAndKeys(ns)) {
                        throw ApiException.notFound();
                    }
                    deleteTenantData.accept(ns);
                    LOG.info("zone {}: namespace {} deleted with its keys and data", zone, ns);
                    ex.reply(200, NODES.objectNode().put("deleted", ns));
                }
                default -> throw new ApiException(405, "HTTP method not allowed, supported methods: GET, DELETE");
            }
            return;
        }
        namespaces.get(ns).orElseThrow(ApiException::notFound);
        switch (rest.get(1)) {
            case "keys" -> keys(ex, ns, rest.subList(2, rest.size()));
            case "limits" -> {
                switch (m) {
                    case "GET" -> ex.reply(200, namespaces.limits(ns));
                    case "PUT" -> ex.reply(200, namespaces.setLimits(ns, ex.jsonObject(64 * 1024)));
                    default -> throw new ApiException(405, "HTTP method not allowed, supported methods: GET, PUT");
                }
            }
            case "policy" -> {
                switch (m) {
                    case "GET" -> ex.reply(200, policies.get(ns).toJson());
                    case "PUT" -> {
                        NamespacePolicy updated = policies.update(ns, ex.jsonObject(64 * 1024));
                        LOG.info("zone {}: policy of namespace {} set by the admin API", zone, ns);
                        ex.reply(200, updated.toJson());
                    }
                    default -> throw new ApiException(405, "HTTP method not allowed, supported methods: GET, PUT");
                }
            }
            default -> throw ApiException.notFound();
        }
    }

    private void keys(Exchange ex, String ns, List<String> rest) throws IOException {
        String m = ex.method();
        if (rest.isEmpty() || (rest.size() == 1 && rest.get(0).isEmpty())) {
            switch (m) {
                case "GET" -> {
                    ArrayNode out = NODES.arrayNode();
                    for (KeyRecord r : keys.keysOf(ns)) {
                        out.add(NODES.objectNode().put("uuid", r.uuid()).put("namespace", r.namespace()).put("role", r.roleOrAdmin().id())
                                .put("created", r.created()));
                    }
                    ex.reply(200, out);
                }
                case "POST" -> {
                    List<Op> ops = new ArrayList<>();
                    String requested = ex.jsonObject(64 * 1024).path("role").asText("");
                    Role role = requested.isEmpty() ? Role.DEVELOPER : Role.parse(requested);
                    KeyRegistry.IssuedKey k = keys.newKey(ns, role, ops);
                    keys.commit(ops);
                    LOG.info("zone {}: key {} ({}) created for namespace {}", zone, k.uuid(), role.id(), ns);
                    ex.reply(201, issued(k));
                }
                default -> throw new ApiException(405, "HTTP method not allowed, supported methods: GET, POST");
            }
            return;
        }
        if (rest.size() != 1 || !m.equals("DELETE")) {
            throw new ApiException(405, "HTTP method not allowed, supported methods: DELETE");
        }
        if (!keys.revoke(ns, rest.get(0))) {
            throw ApiException.notFound();
        }
        LOG.info("zone {}: key {} of namespace {} revoked", zone, rest.get(0), ns);
        ex.reply(200, NODES.objectNode().put("revoked", rest.get(0)).put("namespace", ns));
    }

    private static ObjectNode issued(KeyRegistry.IssuedKey k) {
        return NODES.objectNode().put("namespace", k.namespace()).put("uuid", k.uuid()).put("key", k.key()).put("auth", k.auth())
                .put("role", k.role().id());
    }
}
