package io.petrel.api.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.ApiException;
import io.petrel.api.activation.ActivationRecord;
import io.petrel.api.auth.Authenticator;
import io.petrel.api.auth.Identity;
import io.petrel.api.auth.Role;
import io.petrel.api.entity.ActionResolver;
import io.petrel.api.entity.Runtimes;
import io.petrel.api.http.Exchange;
import io.petrel.api.invoke.ActionInvoke;
import io.petrel.api.invoke.Invocations;
import io.petrel.api.invoke.Target;
import io.petrel.api.invoke.Throttle;
import org.eclipse.jetty.http.HttpFields;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static java.util.Objects.requireNonNull;

/**
 * OpenWhisk's web actions: {@code /api/v1/web/{namespace}/{package|default}/{action}[.ext][/extra/path]}
 * runs an action annotated {@code web-export: true} for any caller, without a key unless the action
 * asks for one ({@code require-whisk-auth}), and answers with what its result says.
 *
 * <p>The activation is the owner's: it runs as the namespace in the URL, which owns its record and
 * is billed and throttled for it, whoever calls. Every answer after the activation started carries
 * {@code x-openwhisk-activation-id}.
 */
public final class WebActions {
    /** The header a caller sends when {@code require-whisk-auth} is a string (or number). */
    public static final String REQUIRE_AUTH_HEADER = "X-Require-Whisk-Auth";
    static final String CORS_ORIGIN = "Access-Control-Allow-Origin";
    static final String CORS_METHODS = "Access-Control-Allow-Methods";
    static final String CORS_HEADERS = "Access-Control-Allow-Headers";
    static final String ALLOWED_METHODS = "OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH";
    static final String ALLOWED_HEADERS = "Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent";
    /**
     * How much longer than its time limit a web action is waited for: the limit counts the run only,
     * and a cold container's start and the record's way back come on top.
     */
    static final int WAIT_MARGIN_MILLIS = 5_000;
    // The owner acts through its export, not with one of its keys: the identity names no key.
    private static final String OWNER_UUID = "web-action";

    private final Invocations invocations;
    private final ActionResolver resolver;
    private final Authenticator authenticator;
    private final Throttle throttle;
    private final ActionInvoke invoke;

    public WebActions(Invocations invocations, ActionResolver resolver, Authenticator authenticator, Throttle throttle, Runtimes runtimes) {
        this.invocations = requireNonNull(invocations, "invocations");
        this.resolver = requireNonNull(resolver, "resolver");
        this.authenticator = requireNonNull(authenticator, "authenticator");
        this.throttle = requireNonNull(throttle, "throttle");
        // Only for its check that this zone can run the action's kind, with the invoke's message.
        this.invoke = new ActionInvoke(invocations, throttle, requireNonNull(runtimes, "runtimes"));
    }

    /**
     * Answers one web action request.
     *
     * @param segments the path after {@code /api/v1/web/}, decoded
     */
    public void handle(Exchange ex, List<String> segments) throws IOException {
        WebPath path = WebPath.parse(segments);
        Identity owner = new Identity(OWNER_UUID, path.namespace(), Role.INVOKER);
        Target target = resolver.resolve(owner, path.namespace(), path.pkg().orElse(null), path.action());
        if (!target.annotation("web-export", false)) {
            throw ApiException.notFound();
        }
        boolean customOptions = target.annotation("web-custom-options", false);
        boolean options = ex.method().equals("OPTIONS");
        HttpFields.Mutable out = ex.responseHeaders();
        if (customOptions) {
            // The action answers CORS itself; the server's defaults would contradict what it sends.
            out.remove(CORS_ORIGIN);
            out.remove(CORS_METHODS);
            out.remove(CORS_HEADERS);
        } else {
            out.put(CORS_ORIGIN, "*");
            out.put(CORS_METHODS, ALLOWED_METHODS);
            out.put(CORS_HEADERS, ex.header("Access-Control-Request-Headers").orElse(ALLOWED_HEADERS));
            if (options) {
                ex.replyEmpty(200);
                return;
            }
        }
        // An OPTIONS the action answers itself runs unauthenticated: a browser's preflight carries no credentials.
        Optional<Identity> caller = options ? Optional.empty() : authorize(ex, target);
        WebRequest request = WebRequest.read(ex, Invocations.MAX_PAYLOAD_BYTES);
        // The caller's key reaches the action only when the caller is the owner: another tenant's key
        // must not be handed to code the owner wrote, neither as the API key nor in __ow_headers.
        boolean callerIsOwner = caller.map(c -> c.namespace().equals(owner.namespace())).orElse(false);
        if (caller.isPresent() && !callerIsOwner) {
            request = request.withoutHeader("authorization");
        }
        ObjectNode params = ActionInput.build(target, request, path.extraPath(), caller.map(Identity::namespace), ex.json());
        invoke.requireRunnable(target);
        Optional<String> apiKey = callerIsOwner ? ActionInvoke.apiKey(ex) : Optional.empty();
        Throttle.Permit permit = throttle.admit(owner.namespace(), Throttle.Kind.INVOKE);
        Invocations.Started started;
        try {
            started = invocations.start(new Invocations.Request(target, params, owner, apiKey, ex.transactionId(), Optional.empty(), true,
                    Optional.empty()));
        } catch (RuntimeException e) {
            permit.close();
            throw e;
        }
        started.done().whenComplete((r, e) -> permit.close());
        ex.setHeader(ActionInvoke.ACTIVATION_ID_HEADER, started.activationId());
        ActivationRecord record;
        try {
            record = started.done().get(waitMillis(target), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            // It runs on and its record comes when it ends, under the id this answer carries.
            acceptLater(ex, started);
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            acceptLater(ex, started);
            return;
        } catch (ExecutionException e) {
            throw new ApiException(500, "The activation failed: " + e.getCause());
        }
        answer(ex, path, record, out);
    }

    /**
     * Checks {@code require-whisk-auth}: {@code true} needs a valid key of any namespace (its
     * namespace becomes {@code __ow_user}); a string or number needs {@code X-Require-Whisk-Auth} with
     * that value. Absent or {@code false} needs nothing; any other value refuses every caller, since
     * what its author meant cannot be told.
     */
    private Optional<Identity> authorize(Exchange ex, Target target) {
        Optional<JsonNode> required = target.annotationValue("require-whisk-auth");
        if (required.isEmpty() || (required.get().isBoolean() && !required.get().booleanValue())) {
            return Optional.empty();
        }
        JsonNode value = required.get();
        if (value.isBoolean()) {
            return Optional.of(authenticator.authenticate(ex.header("Authorization")));
        }
        if (!value.isTextual() && !value.isNumber()) {
            throw new ApiException(401, ApiException.NO_AUTH);
        }
        String given = ex.header(REQUIRE_AUTH_HEADER).orElseThrow(() -> new ApiException(401, ApiException.NO_AUTH));
        // Compared in constant time: the value is a shared secret.
        if (!MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), value.asText().getBytes(StandardCharsets.UTF_8))) {
            throw new ApiException(401, ApiException.BAD_AUTH);
        }
        return Optional.empty();
    }

    /** The action's time limit and a margin, never more than OpenWhisk's blocking wait; a sequence gets the whole wait. */
    static long waitMillis(Target target) {
        if ("sequence".equals(target.kind())) {
            return ActionInvoke.MAX_WAIT_MILLIS;
        }
        long limit = target.doc().path("limits").path("timeout").asLong(ActionInvoke.MAX_WAIT_MILLIS);
        return Math.min(ActionInvoke.MAX_WAIT_MILLIS, Math.max(0, limit) + WAIT_MARGIN_MILLIS);
    }

    private void acceptLater(Exchange ex, Invocations.Started started) throws IOException {
        invocations.accept(started);
        ex.reply(202, ex.json().createObjectNode().put("activationId", started.activationId()));
    }

    /**
     * A success is served as the extension asks. An application error under {@code .http} whose
     * {@code error} is an object is served as the action's HTTP answer (OpenWhisk's way for an action
     * to answer 4xx: {@code {error: {statusCode: 400, body: ...}}}); every other failure is 502 with
     * the activation's error.
     */
    private static void answer(Exchange ex, WebPath path, ActivationRecord record, HttpFields.Mutable out) throws IOException {
        WebResponse response;
        JsonNode error = record.result().get("error");
        if (record.success()) {
            response = Transcoder.success(path.extension(), record.result(), path.projection(), ex.json());
        } else if (record.statusCode() == 1 && path.extension() == Extension.HTTP && error != null && error.isObject()) {
            response = Transcoder.http(error);
        } else {
            ObjectNode body = ex.json().createObjectNode();
            body.set("error", error != null ? error : record.result());
            body.put("code", ex.transactionId());
            ex.reply(502, body);
            return;
        }
        Set<String> seen = new HashSet<>();
        for (WebResponse.Header h : response.headers()) {
            // The first value replaces a default of the server (CORS); more values of the same name repeat it.
            if (seen.add(h.name().toLowerCase(Locale.ROOT))) {
                out.put(h.name(), h.value());
            } else {
                out.add(h.name(), h.value());
            }
        }
        if (response.contentType().isEmpty()) {
            ex.replyEmpty(response.status());
        } else {
            ex.send(response.status(), response.contentType().get(), response.body());
        }
    }
}
