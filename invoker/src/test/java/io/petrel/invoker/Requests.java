package io.petrel.invoker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.petrel.api.invoke.ActionCode;
import io.petrel.api.invoke.RunLimits;
import io.petrel.api.invoke.RunRequest;

import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/** Builds run requests for tests. */
record Requests(String kind, String code, String main, int memoryMb, int concurrency, int timeoutMillis,
                long revision, Map<String, String> initEnv, Optional<String> apiKey) {
    static final String NAMESPACE = "guest";

    static Requests nodejs(String code) {
        return new Requests("nodejs:20", code, "main", 256, 1, 10_000, 1, Map.of(), Optional.empty());
    }

    Requests kind(String k) {
        return new Requests(k, code, main, memoryMb, concurrency, timeoutMillis, revision, initEnv, apiKey);
    }

    Requests code(String c) {
        return new Requests(kind, c, main, memoryMb, concurrency, timeoutMillis, revision, initEnv, apiKey);
    }

    Requests memory(int mb) {
        return new Requests(kind, code, main, mb, concurrency, timeoutMillis, revision, initEnv, apiKey);
    }

    Requests concurrency(int n) {
        return new Requests(kind, code, main, memoryMb, n, timeoutMillis, revision, initEnv, apiKey);
    }

    Requests timeout(int millis) {
        return new Requests(kind, code, main, memoryMb, concurrency, millis, revision, initEnv, apiKey);
    }

    Requests revision(long r) {
        return new Requests(kind, code, main, memoryMb, concurrency, timeoutMillis, r, initEnv, apiKey);
    }

    Requests initEnv(Map<String, String> env) {
        return new Requests(kind, code, main, memoryMb, concurrency, timeoutMillis, revision, env, apiKey);
    }

    Requests apiKey(String key) {
        return new Requests(kind, code, main, memoryMb, concurrency, timeoutMillis, revision, initEnv, Optional.of(key));
    }

    RunRequest of(String action) {
        return of(action, JsonNodeFactory.instance.objectNode().put("name", "petrel"));
    }

    RunRequest of(String action, JsonNode value) {
        byte[] id = new byte[16];
        ThreadLocalRandom.current().nextBytes(id);
        return new RunRequest(HexFormat.of().formatHex(id), "tx-" + HexFormat.of().formatHex(id, 0, 4), NAMESPACE,
                "/" + NAMESPACE + "/" + action, "0.0.1", revision, new ActionCode(kind, code, false, main), initEnv,
                value, new RunLimits(timeoutMillis, memoryMb, 10 * 1024 * 1024, concurrency), apiKey,
                System.currentTimeMillis());
    }
}
