package io.petrel.invoker;

import io.petrel.api.invoke.ActionCode;
import io.petrel.api.invoke.RunRequest;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

import static java.util.Objects.requireNonNull;

/**
 * What a warm container was initialized with, and so which activations may reuse it. Two activations
 * share a container only if everything the container saw at init is the same: the action's identity
 * and revision, its memory and concurrency (set when the process started), and a digest of the code,
 * entry point and init parameters (a package's parameters may change without the action's revision).
 */
record ActionKey(String namespace, String actionName, String version, long revision, String kind, int memoryMb,
                 int concurrency, String codeDigest) {
    ActionKey {
        requireNonNull(namespace, "namespace");
        requireNonNull(actionName, "actionName");
        requireNonNull(version, "version");
        requireNonNull(kind, "kind");
        requireNonNull(codeDigest, "codeDigest");
    }

    static ActionKey of(RunRequest request) {
        return new ActionKey(request.namespace(), request.actionName(), request.version(), request.revision(),
                request.code().kind(), request.limits().memoryMb(), request.limits().concurrency(),
                digest(request.code(), request.initEnv()));
    }

    private static String digest(ActionCode code, Map<String, String> initEnv) {
        MessageDigest sha = sha256();
        update(sha, code.kind());
        update(sha, code.main());
        update(sha, code.binary() ? "binary" : "text");
        update(sha, code.code());
        // Sorted, so the digest does not depend on the map's iteration order.
        for (Map.Entry<String, String> e : new TreeMap<>(initEnv).entrySet()) {
            update(sha, e.getKey());
            update(sha, e.getValue());
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    // Length-prefixed, so that moving characters from one field to the next changes the digest.
    private static void update(MessageDigest sha, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        sha.update(ByteBuffer.allocate(Integer.BYTES).putInt(bytes.length).array());
        sha.update(bytes);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    @Override
    public String toString() {
        return actionName + "@" + version + " rev " + revision + " (" + kind + ", " + memoryMb + " MB, code "
                + codeDigest.substring(0, 12) + ")";
    }
}
