package io.petrel.api.invoke;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.ApiException;
import io.petrel.api.activation.ActivationRecord;
import io.petrel.api.entity.Call;
import io.petrel.api.entity.Runtimes;
import io.petrel.api.http.Exchange;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static java.util.Objects.requireNonNull;

/**
 * {@code POST /namespaces/{ns}/actions/[{pkg}/]{name}}: OpenWhisk's invoke, blocking or not, with its
 * answers: 202 with the id (non-blocking, or blocking past the wait), 200 / 502 / 500 with the record
 * or only the result, and {@code x-openwhisk-activation-id} on every answer.
 */
public final class ActionInvoke {
    /** {@code whisk.controller.activation.max-wait-for-blocking-activation}. */
    public static final int MAX_WAIT_MILLIS = 60_000;
    public static final String ACTIVATION_ID_HEADER = "x-openwhisk-activation-id";

    private final Invocations invocations;
    private final Throttle throttle;
    private final Runtimes runtimes;

    public ActionInvoke(Invocations invocations, Throttle throttle, Runtimes runtimes) {
        this.invocations = requireNonNull(invocations, "invocations");
        this.throttle = requireNonNull(throttle, "throttle");
        this.runtimes = requireNonNull(runtimes, "runtimes");
    }

    public void invoke(Call call, Target target) throws IOException {
        Exchange ex = call.exchange();
        boolean blocking = ex.flag("blocking");
        boolean resultOnly = ex.flag("result");
        int wait = waitMillis(ex);
        ObjectNode body = ex.jsonObject(Invocations.MAX_PAYLOAD_BYTES);
        requireRunnable(target);
        ObjectNode params = Invocations.mergeParameters(target, body);
        Throttle.Permit permit = throttle.admit(call.who().namespace(), Throttle.Kind.INVOKE);
        Invocations.Started started;
        try {
            started = invocations.start(new Invocations.Request(target, params, call.who(), apiKey(ex), ex.transactionId(),
                    Optional.empty(), true, Optional.empty()));
        } catch (RuntimeException e) {
            permit.close();
            throw e;
        }
        started.done().whenComplete((r, e) -> permit.close());
        ex.setHeader(ACTIVATION_ID_HEADER, started.activationId());
        if (!blocking) {
            invocations.accept(started);
            ex.reply(202, ex.json().createObjectNode().put("activationId", started.activationId()));
            return;
        }
        ActivationRecord record;
        try {
            record = started.done().get(wait, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            // The action runs on; its record comes when it ends, as OpenWhisk's 202 promises.
            invocations.accept(started);
            ex.reply(202, ex.json().createObjectNode().put("activationId", started.activationId()));
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            invocations.accept(started);
            ex.reply(202, ex.json().createObjectNode().put("activationId", started.activationId()));
            return;
        } catch (ExecutionException e) {
            throw new ApiException(500, "The activation failed: " + e.getCause());
        }
        reply(ex, record, resultOnly);
    }

    /** The answer of a finished blocking activation; logs are never part of it (OpenWhisk PR 4100). */
    public static void reply(Exchange ex, ActivationRecord record, boolean resultOnly) throws IOException {
        int status = Invocations.httpStatus(record);
        if (resultOnly || record.result().isArray()) {
            ex.reply(status, record.result());
            return;
        }
        ObjectNode full = record.full();
        full.putArray("logs");
        ex.reply(status, full);
    }

    private static int waitMillis(Exchange ex) {
        Optional<String> raw = ex.param("timeout");
        if (raw.isEmpty()) {
            return MAX_WAIT_MILLIS;
        }
        try {
            int ms = Integer.parseInt(raw.get().trim());
            if (ms >= 1 && ms <= MAX_WAIT_MILLIS) {
                return ms;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw ApiException.badRequest("Timeout must be number of milliseconds up to " + MAX_WAIT_MILLIS + ".");
    }

    /** A kind this zone cannot run (its interpreter is missing) is the caller's answer, not a crash. */
    public void requireRunnable(Target target) {
        String kind = target.kind();
        if (!kind.equals("sequence") && runtimes.resolve(kind).isEmpty()) {
            throw ApiException.badRequest("The action's kind '" + kind + "' cannot run here: this region has no interpreter for it. Kinds it runs: "
                    + runtimes.validKindsText() + ".");
        }
    }

    /** The caller's {@code uuid:key}, for actions that may see it ({@code provide-api-key}). */
    public static Optional<String> apiKey(Exchange ex) {
        Optional<String> auth = ex.header("Authorization");
        if (auth.isEmpty() || !auth.get().regionMatches(true, 0, "Basic ", 0, 6)) {
            return Optional.empty();
        }
        try {
            return Optional.of(new String(Base64.getDecoder().decode(auth.get().substring(6).trim()), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
