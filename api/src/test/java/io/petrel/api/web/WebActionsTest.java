package io.petrel.api.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.petrel.api.invoke.RunRequest;
import io.petrel.api.web.WebZone.Reply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Web actions end to end over HTTP: a zone's API over a real three-replica store, actions created
 * through the API, run by a scripted invoker (see {@link ScriptedRunner}), called anonymously or with
 * keys at {@code /api/v1/web/...}, and their records read back from the owner's namespace.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebActionsTest {
    private static final String ID_HEADER = "x-openwhisk-activation-id";
    private final ObjectMapper json = new ObjectMapper();
    private WebZone zone;
    private String alice;
    private String bob;

    @BeforeAll
    void start() throws Exception {
        zone = new WebZone();
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
            alice = zone.namespace("alice");
            return true;
        });
        bob = zone.namespace("bob");
        assertThat(zone.as(alice, "PUT", "/alice/packages/demo", "{}").status()).isEqualTo(200);
        action("echo", "echo", annotations("web-export", true), null);
        action("demo/echo", "echo", annotations("web-export", true), null);
        action("echoHttp", "echo-http", annotations("web-export", true), null);
        action("respond", "respond", annotations("web-export", true), null);
        action("private", "echo", json.createArrayNode(), null);
        action("unexported", "echo", annotations("web-export", false), null);
    }

    @AfterAll
    void stop() throws Exception {
        zone.close();
    }

    // --- helpers ---------------------------------------------------------------------------------

    private ArrayNode annotations(Object... keyValues) {
        ArrayNode a = json.createArrayNode();
        for (int i = 0; i < keyValues.length; i += 2) {
            a.addObject().put("key", (String) keyValues[i]).set("value", json.valueToTree(keyValues[i + 1]));
        }
        return a;
    }

    private void action(String name, String script, ArrayNode annotations, ObjectNode extra) throws Exception {
        ObjectNode doc = json.createObjectNode();
        doc.putObject("exec").put("kind", "nodejs:20").put("code", script);
        doc.set("annotations", annotations);
        if (extra != null) {
            doc.setAll(extra);
        }
        Reply r = zone.as(alice, "PUT", "/alice/actions/" + name + "?overwrite=true", doc.toString());
        assertThat(r.status()).as("create %s: %s", name, r.text()).isEqualTo(200);
    }

    private Reply web(String method, String path, Map<String, String> headers, String body) throws Exception {
        return zone.send(method, "/api/v1/web/" + path, headers, body);
    }

    private Reply get(String path) throws Exception {
        return web("GET", path, Map.of(), null);
    }

    private Reply postJson(String path, Object body) throws Exception {
        return web("POST", path, Map.of("Content-Type", "application/json"), json.writeValueAsString(body));
    }

    private static Map<String, Object> response(Object... keyValues) {
        java.util.LinkedHashMap<String, Object> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put((String) keyValues[i], keyValues[i + 1]);
        }
        return Map.of("response", m);
    }

    // --- extensions ------------------------------------------------------------------------------

    @Test
    void jsonServesTheResultAndProjectsTheExtraPath() throws Exception {
        Reply whole = get("alice/default/echo.json?name=Jane");
        assertThat(whole.status()).isEqualTo(200);
        assertThat(whole.header("Content-Type")).hasValueSatisfying(ct -> assertThat(ct).startsWith("application/json"));
        JsonNode params = whole.json();
        assertThat(params.path("name").asText()).isEqualTo("Jane");
        assertThat(params.path("__ow_method").asText()).isEqualTo("get");
        assertThat(params.path("__ow_path").asText()).isEqualTo("");
        assertThat(params.path("__ow_headers").isObject()).isTrue();

        Reply projected = postJson("alice/default/echo.json/body", Map.of("body", Map.of("name", "Ann", "tags", java.util.List.of("a", "b"))));
        assertThat(projected.status()).isEqualTo(200);
        assertThat(projected.json()).isEqualTo(json.readTree("{\"name\":\"Ann\",\"tags\":[\"a\",\"b\"]}"));
        assertThat(postJson("alice/default/echo.json/body/tags", Map.of("body", Map.of("tags", java.util.List.of("a", "b")))).json())
                .isEqualTo(json.readTree("[\"a\",\"b\"]"));

        Reply notJson = postJson("alice/default/echo.json/body/name", Map.of("body", Map.of("name", "Ann")));
        assertThat(notJson.status()).isEqualTo(400);
        assertThat(notJson.json().path("error").asText()).contains("application/json").contains("/body/name").contains("a string");
        assertThat(notJson.header(ID_HEADER)).isPresent();

        Reply missing = get("alice/default/echo.json/nothing/here");
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.json().path("error").asText()).contains("/nothing/here");

        // An action in a package is addressed by its package; the default package by "default".
        assertThat(get("alice/demo/echo.json?x=1").json().path("x").asText()).isEqualTo("1");
    }

    @Test
    void htmlSvgAndTextServeTheirFieldOrTheProjectedValue() throws Exception {
        Reply html = get("alice/default/echo.html?html=%3Cp%3Ehi%3C/p%3E");
        assertThat(html.status()).isEqualTo(200);
        assertThat(html.header("Content-Type").orElseThrow().toLowerCase()).startsWith("text/html").contains("charset=utf-8");
        assertThat(html.text()).isEqualTo("<p>hi</p>");

        Reply svg = get("alice/default/echo.svg?svg=%3Csvg/%3E");
        assertThat(svg.status()).isEqualTo(200);
        assertThat(svg.header("Content-Type").orElseThrow()).startsWith("image/svg+xml");
        assertThat(svg.text()).isEqualTo("<svg/>");

        Reply text = get("alice/default/echo.text?text=plain");
        assertThat(text.status()).isEqualTo(200);
        assertThat(text.header("Content-Type").orElseThrow()).startsWith("text/plain");
        assertThat(text.text()).isEqualTo("plain");

        // A projection names the value itself; a number is served as its text, an object as pretty JSON.
        assertThat(get("alice/default/echo.text/name?name=Jane").text()).isEqualTo("Jane");
        assertThat(postJson("alice/default/echo.text/n", Map.of("n", 42)).text()).isEqualTo("42");
        assertThat(json.readTree(postJson("alice/default/echo.text/o", Map.of("o", Map.of("a", 1))).text()))
                .isEqualTo(json.readTree("{\"a\":1}"));
        assertThat(get("alice/default/echo.html/page?page=%3Ch1%3EX%3C/h1%3E").text()).isEqualTo("<h1>X</h1>");

        Reply noHtml = get("alice/default/echo.html");
        assertThat(noHtml.status()).isEqualTo(400);
        assertThat(noHtml.json().path("error").asText()).contains("text/html").contains("'html'");
        Reply noSvg = get("alice/default/echo.svg");
        assertThat(noSvg.status()).isEqualTo(400);
        assertThat(noSvg.json().path("error").asText()).contains("image/svg+xml").contains("'svg'");
        Reply noText = get("alice/default/echo.text");
        assertThat(noText.status()).isEqualTo(400);
        assertThat(noText.json().path("error").asText()).contains("text/plain").contains("'text'");
        Reply numberAsHtml = postJson("alice/default/echo.html/n", Map.of("n", 1));
        assertThat(numberAsHtml.status()).isEqualTo(400);
        assertThat(numberAsHtml.json().path("error").asText()).contains("a number, not a string");
    }

    @Test
    void httpServesStatusHeadersAndBody() throws Exception {
        Reply made = postJson("alice/default/respond.http", response("statusCode", 201,
                "headers", Map.of("X-Custom", "yes", "Set-Cookie", java.util.List.of("a=1", "b=2"), "X-Number", 7),
                "body", "<b>made</b>"));
        assertThat(made.status()).isEqualTo(201);
        assertThat(made.text()).isEqualTo("<b>made</b>");
        assertThat(made.header("Content-Type").orElseThrow().toLowerCase()).startsWith("text/html").contains("charset=utf-8");
        assertThat(made.header("X-Custom")).hasValue("yes");
        assertThat(made.header("X-Number")).hasValue("7");
        assertThat(made.headers("Set-Cookie")).containsExactly("a=1", "b=2");
        assertThat(made.header(ID_HEADER)).isPresent();

        byte[] png = {(byte) 0x89, 'P', 'N', 'G', 0, 1, 2, (byte) 0xff};
        Reply binary = postJson("alice/default/respond", response("headers", Map.of("Content-Type", "image/png"),
                "body", Base64.getEncoder().encodeToString(png)));
        assertThat(binary.status()).isEqualTo(200);
        assertThat(binary.header("Content-Type")).hasValue("image/png");
        assertThat(binary.raw().body()).isEqualTo(png);

        Reply jsonBody = postJson("alice/default/respond.http", response("body", Map.of("ok", true)));
        assertThat(jsonBody.status()).isEqualTo(200);
        assertThat(jsonBody.header("Content-Type").orElseThrow()).startsWith("application/json");
        assertThat(jsonBody.json()).isEqualTo(json.readTree("{\"ok\":true}"));

        Reply problem = postJson("alice/default/respond.http", response("statusCode", "422",
                "headers", Map.of("Content-Type", "application/problem+json"), "body", Map.of("title", "bad")));
        assertThat(problem.status()).isEqualTo(422);
        assertThat(problem.header("Content-Type").orElseThrow()).startsWith("application/problem+json");

        Reply plain = postJson("alice/default/respond.http", response("headers", Map.of("Content-Type", "text/plain"), "body", "hi"));
        assertThat(plain.header("Content-Type").orElseThrow().toLowerCase()).startsWith("text/plain").contains("charset=utf-8");
        assertThat(plain.text()).isEqualTo("hi");

        Reply empty = postJson("alice/default/respond.http", response());
        assertThat(empty.status()).isEqualTo(204);
        assertThat(empty.raw().body()).isEmpty();
        Reply redirect = postJson("alice/default/respond", response("statusCode", 302, "headers", Map.of("Location", "/elsewhere")));
        assertThat(redirect.status()).isEqualTo(302);
        assertThat(redirect.header("Location")).hasValue("/elsewhere");

        // The action's CORS headers win over the defaults.
        Reply cors = postJson("alice/default/respond", response("headers", Map.of("Access-Control-Allow-Origin", "https://example.com"),
                "body", "x"));
        assertThat(cors.header("Access-Control-Allow-Origin")).hasValue("https://example.com");
    }

    @Test
    void httpRefusesResultsThatAreNoHttpAnswer() throws Exception {
        Reply notBase64 = postJson("alice/default/respond.http", response("headers", Map.of("Content-Type", "application/octet-stream"),
                "body", "not base64 at all!"));
        assertThat(notBase64.status()).isEqualTo(400);
        assertThat(notBase64.json().path("error").asText()).contains("message/http").contains("base64");
        assertThat(notBase64.header(ID_HEADER)).isPresent();

        Reply jsonAsText = postJson("alice/default/respond.http", response("headers", Map.of("Content-Type", "text/plain"),
                "body", Map.of("a", 1)));
        assertThat(jsonAsText.status()).isEqualTo(400);
        assertThat(jsonAsText.json().path("error").asText()).contains("text/plain");

        Reply badStatus = postJson("alice/default/respond.http", response("statusCode", 999, "body", "x"));
        assertThat(badStatus.status()).isEqualTo(400);
        assertThat(badStatus.json().path("error").asText()).contains("999");

        Reply injected = postJson("alice/default/respond.http", response("headers", Map.of("X-A", "1\r\nX-B: 2"), "body", "x"));
        assertThat(injected.status()).isEqualTo(400);
        assertThat(injected.header("X-B")).isEmpty();

        // The echo's result (the parameters) has no body: an empty answer.
        assertThat(get("alice/default/echo.http").status()).isEqualTo(204);
        // A result that is an array is no HTTP answer.
        action("arrayResult", "respond", annotations("web-export", true), (ObjectNode) json.readTree("{\"parameters\":[{\"key\":\"response\",\"value\":[1,2]}]}"));
        Reply array = get("alice/default/arrayResult");
        assertThat(array.status()).isEqualTo(400);
        assertThat(array.json().path("error").asText()).contains("an array");
    }

    @Test
    void theDefaultExtensionIsHttp() throws Exception {
        action("teapot", "respond", annotations("web-export", true), (ObjectNode) json.readTree(
                "{\"parameters\":[{\"key\":\"response\",\"value\":{\"statusCode\":418,\"headers\":{\"X-Tea\":\"earl grey\"},\"body\":\"short and stout\"}}]}"));
        for (String path : new String[]{"alice/default/teapot", "alice/default/teapot.http"}) {
            Reply r = get(path);
            assertThat(r.status()).as(path).isEqualTo(418);
            assertThat(r.header("X-Tea")).hasValue("earl grey");
            assertThat(r.text()).isEqualTo("short and stout");
        }
        // Extra path under .http is not projected; the action sees it as __ow_path.
        Reply extra = get("alice/default/echoHttp/some/where.json");
        assertThat(extra.status()).isEqualTo(200);
        assertThat(extra.json().path("__ow_path").asText()).isEqualTo("/some/where.json");
    }

    // --- what is served --------------------------------------------------------------------------

    @Test
    void onlyWebExportedActionsAreServed() throws Exception {
        for (String path : new String[]{"alice/default/private.json", "alice/default/unexported.json", "alice/default/missing.json",
                "alice/nopkg/echo.json", "nobody/default/echo.json", "_/default/echo.json", "alice/default", "alice"}) {
            Reply r = get(path);
            assertThat(r.status()).as(path).isEqualTo(404);
            assertThat(r.json().path("error").asText()).as(path).isEqualTo("The requested resource does not exist.");
            assertThat(r.header(ID_HEADER)).as(path).isEmpty();
        }
        // Exporting it makes it served, with no change to the URL.
        action("later", "echo", json.createArrayNode(), null);
        assertThat(get("alice/default/later.json").status()).isEqualTo(404);
        action("later", "echo", annotations("web-export", "true"), null);
        assertThat(get("alice/default/later.json").status()).isEqualTo(200);
    }

    @Test
    void everyMethodIsServedAndHeadHasNoBody() throws Exception {
        for (String method : new String[]{"GET", "POST", "PUT", "DELETE", "PATCH"}) {
            Reply r = web(method, "alice/default/echo.json", Map.of(), null);
            assertThat(r.status()).as(method).isEqualTo(200);
            assertThat(r.json().path("__ow_method").asText()).isEqualTo(method.toLowerCase());
            assertThat(r.header(ID_HEADER)).isPresent();
        }
        Reply head = web("HEAD", "alice/default/echo.json", Map.of(), null);
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.raw().body()).isEmpty();
        assertThat(head.header(ID_HEADER)).isPresent();
    }

    // --- authentication --------------------------------------------------------------------------

    @Test
    void requireWhiskAuthTrueNeedsAValidKeyAndTellsTheActionWhoCalled() throws Exception {
        action("secured", "echo", annotations("web-export", true, "require-whisk-auth", true, "provide-api-key", true), null);
        Reply anonymous = get("alice/default/secured.json");
        assertThat(anonymous.status()).isEqualTo(401);
        assertThat(anonymous.header(ID_HEADER)).isEmpty();
        String wrongKey = bob.substring(0, bob.indexOf(':') + 1) + "x".repeat(bob.length() - bob.indexOf(':') - 1);
        assertThat(web("GET", "alice/default/secured.json", Map.of("Authorization", WebZone.basic(wrongKey)), null).status()).isEqualTo(401);

        Reply byBob = web("GET", "alice/default/secured.json", Map.of("Authorization", WebZone.basic(bob)), null);
        assertThat(byBob.status()).isEqualTo(200);
        assertThat(byBob.json().path("__ow_user").asText()).isEqualTo("bob");
        assertThat(byBob.json().path("__ow_headers").has("authorization")).isFalse();
        // Bob's key is not handed to code alice wrote; alice's own call may see hers.
        RunRequest bobsRun = zone.runner().request(byBob.header(ID_HEADER).orElseThrow());
        assertThat(bobsRun.apiKey()).isEmpty();
        assertThat(bobsRun.namespace()).isEqualTo("alice");
        Reply byAlice = web("GET", "alice/default/secured.json", Map.of("Authorization", WebZone.basic(alice)), null);
        assertThat(byAlice.json().path("__ow_user").asText()).isEqualTo("alice");
        assertThat(byAlice.json().path("__ow_headers").path("authorization").asText()).startsWith("Basic ");
        assertThat(zone.runner().request(byAlice.header(ID_HEADER).orElseThrow()).apiKey()).hasValue(alice);

        // The activation is alice's, whoever called.
        String id = byBob.header(ID_HEADER).orElseThrow();
        assertThat(zone.api().flushActivations(10_000)).isTrue();
        Reply record = zone.as(alice, "GET", "/alice/activations/" + id, null);
        assertThat(record.status()).isEqualTo(200);
        assertThat(record.json().path("namespace").asText()).isEqualTo("alice");
        assertThat(zone.as(bob, "GET", "/bob/activations/" + id, null).status()).isEqualTo(404);

        // Without the annotation no __ow_user is given, even with a key; an Authorization header is the app's own then.
        Reply anonymousWithHeader = web("GET", "alice/default/echo.json", Map.of("Authorization", "Bearer app-token"), null);
        assertThat(anonymousWithHeader.json().has("__ow_user")).isFalse();
        assertThat(anonymousWithHeader.json().path("__ow_headers").path("authorization").asText()).isEqualTo("Bearer app-token");
    }

    @Test
    void requireWhiskAuthStringNeedsTheHeader() throws Exception {
        action("shared", "echo", annotations("web-export", true, "require-whisk-auth", "s3cret-value"), null);
        assertThat(get("alice/default/shared.json").status()).isEqualTo(401);
        assertThat(web("GET", "alice/default/shared.json", Map.of("X-Require-Whisk-Auth", "wrong"), null).status()).isEqualTo(401);
        // A valid key is not what this action asks for.
        assertThat(web("GET", "alice/default/shared.json", Map.of("Authorization", WebZone.basic(alice)), null).status()).isEqualTo(401);
        Reply ok = web("GET", "alice/default/shared.json", Map.of("X-Require-Whisk-Auth", "s3cret-value"), null);
        assertThat(ok.status()).isEqualTo(200);
        assertThat(ok.json().has("__ow_user")).isFalse();

        action("numbered", "echo", annotations("web-export", true, "require-whisk-auth", 1234), null);
        assertThat(get("alice/default/numbered.json").status()).isEqualTo(401);
        assertThat(web("GET", "alice/default/numbered.json", Map.of("X-Require-Whisk-Auth", "1234"), null).status()).isEqualTo(200);

        action("odd", "echo", annotations("web-export", true, "require-whisk-auth", Map.of("a", 1)), null);
        assertThat(web("GET", "alice/default/odd.json", Map.of("Authorization", WebZone.basic(alice)), null).status()).isEqualTo(401);
        action("notRequired", "echo", annotations("web-export", true, "require-whisk-auth", false), null);
        assertThat(get("alice/default/notRequired.json").status()).isEqualTo(200);
    }

    // --- the action's input ----------------------------------------------------------------------

    @Test
    void theActionSeesMethodHeadersPathAndItsMergedParameters() throws Exception {
        action("context", "echo-http", annotations("web-export", true), (ObjectNode) json.readTree(
                "{\"parameters\":[{\"key\":\"greeting\",\"value\":\"hello\"},{\"key\":\"name\",\"value\":\"default\"}]}"));
        Reply r = web("PUT", "alice/default/context/a/b%20c?name=query&q=1",
                Map.of("X-Test", "Value", "Content-Type", "application/json"), "{\"name\":\"body\",\"nested\":{\"x\":true}}");
        assertThat(r.status()).isEqualTo(200);
        JsonNode p = r.json();
        assertThat(p.path("__ow_method").asText()).isEqualTo("put");
        assertThat(p.path("__ow_path").asText()).isEqualTo("/a/b c");
        assertThat(p.path("__ow_headers").path("x-test").asText()).isEqualTo("Value");
        assertThat(p.path("__ow_headers").path("content-type").asText()).isEqualTo("application/json");
        p.path("__ow_headers").fieldNames().forEachRemaining(n -> assertThat(n).isEqualTo(n.toLowerCase()));
        // action < query < body
        assertThat(p.path("greeting").asText()).isEqualTo("hello");
        assertThat(p.path("name").asText()).isEqualTo("body");
        assertThat(p.path("q").asText()).isEqualTo("1");
        assertThat(p.path("nested").path("x").asBoolean()).isTrue();
        assertThat(p.has("__ow_body")).isFalse();
        assertThat(p.has("__ow_query")).isFalse();

        Reply text = web("POST", "alice/default/context", Map.of("Content-Type", "text/plain"), "Jane");
        assertThat(text.json().path("__ow_body").asText()).isEqualTo("Jane");
        byte[] bytes = {0, 1, 2, (byte) 0xfe};
        Reply binary = zone.send("POST", "/api/v1/web/alice/default/context", Map.of("Content-Type", "application/octet-stream"), bytes);
        assertThat(Base64.getDecoder().decode(binary.json().path("__ow_body").asText())).isEqualTo(bytes);
        Reply form = web("POST", "alice/default/context", Map.of("Content-Type", "application/x-www-form-urlencoded"), "name=Form+Name&x=%2F");
        assertThat(form.json().path("name").asText()).isEqualTo("Form Name");
        assertThat(form.json().path("x").asText()).isEqualTo("/");
        Reply array = web("POST", "alice/default/context", Map.of("Content-Type", "application/json"), "[1,2]");
        assertThat(array.json().path("__ow_body")).isEqualTo(json.readTree("[1,2]"));
        assertThat(web("POST", "alice/default/context", Map.of("Content-Type", "application/json"), "{nope").status()).isEqualTo(400);
    }

    @Test
    void rawHttpGetsTheQueryStringAndTheBodyAsSent() throws Exception {
        action("raw", "echo-http", annotations("web-export", true, "raw-http", true), null);
        Reply r = web("POST", "alice/default/raw?name=Jane&x=a%20b", Map.of("Content-Type", "application/json"), "{\"name\":\"Jane\"}");
        assertThat(r.status()).isEqualTo(200);
        JsonNode p = r.json();
        assertThat(p.path("__ow_query").asText()).isEqualTo("name=Jane&x=a%20b");
        // OpenWhisk passes a raw action's JSON body as base64; actions written for it decode it.
        assertThat(new String(Base64.getDecoder().decode(p.path("__ow_body").asText()), StandardCharsets.UTF_8)).isEqualTo("{\"name\":\"Jane\"}");
        assertThat(p.has("name")).isFalse();
        assertThat(p.has("x")).isFalse();
        assertThat(p.path("__ow_method").asText()).isEqualTo("post");

        Reply text = web("POST", "alice/default/raw", Map.of("Content-Type", "text/plain; charset=utf-8"), "just text");
        assertThat(text.json().path("__ow_body").asText()).isEqualTo("just text");
        assertThat(text.json().path("__ow_query").asText()).isEqualTo("");
        Reply none = get("alice/default/raw?__ow_method=kept");
        assertThat(none.status()).isEqualTo(200);
        assertThat(none.json().path("__ow_body").asText()).isEqualTo("");
        assertThat(none.json().path("__ow_query").asText()).isEqualTo("__ow_method=kept");
        assertThat(none.json().path("__ow_method").asText()).isEqualTo("get");
    }

    @Test
    void finalParametersCannotBeOverridden() throws Exception {
        action("frozen", "echo", annotations("web-export", true, "final", true), (ObjectNode) json.readTree(
                "{\"parameters\":[{\"key\":\"name\",\"value\":\"Fixed\"}]}"));
        Reply byQuery = get("alice/default/frozen.json?name=Other");
        assertThat(byQuery.status()).isEqualTo(400);
        assertThat(byQuery.json().path("error").asText()).isEqualTo("Request defines parameters that are not allowed (e.g., reserved properties).");
        assertThat(byQuery.header(ID_HEADER)).isEmpty();
        assertThat(postJson("alice/default/frozen.json", Map.of("name", "Other")).status()).isEqualTo(400);
        Reply other = get("alice/default/frozen.json?other=1");
        assertThat(other.status()).isEqualTo(200);
        assertThat(other.json().path("name").asText()).isEqualTo("Fixed");
        assertThat(other.json().path("other").asText()).isEqualTo("1");
    }

    @Test
    void aRequestMayNotSetOwParameters() throws Exception {
        for (Reply r : new Reply[]{get("alice/default/echo.json?__ow_method=put"), postJson("alice/default/echo.json", Map.of("__ow_headers", Map.of())),
                postJson("alice/default/echo.json", Map.of("__ow_user", "root")),
                web("POST", "alice/default/echo.json", Map.of("Content-Type", "application/x-www-form-urlencoded"), "__ow_path=/x")}) {
            assertThat(r.status()).isEqualTo(400);
            assertThat(r.json().path("error").asText()).startsWith("Request defines parameters that are not allowed");
        }
    }

    @Test
    void aPayloadOverOneMegabyteIsRefused() throws Exception {
        byte[] big = new byte[1024 * 1024 + 1];
        java.util.Arrays.fill(big, (byte) 'a');
        Reply r = zone.send("POST", "/api/v1/web/alice/default/echo.json", Map.of("Content-Type", "text/plain"), big);
        assertThat(r.status()).isEqualTo(413);
    }

    // --- CORS ------------------------------------------------------------------------------------

    @Test
    void optionsAnswersCors() throws Exception {
        Reply r = web("OPTIONS", "alice/default/echo.json", Map.of(), null);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("Access-Control-Allow-Origin")).hasValue("*");
        assertThat(r.header("Access-Control-Allow-Headers").orElseThrow()).contains("Authorization").contains("Content-Type");
        // Every other answer carries the web actions' CORS headers.
        Reply get = get("alice/default/echo.json");
        assertThat(get.header("Access-Control-Allow-Origin")).hasValue("*");
        assertThat(get.header("Access-Control-Allow-Methods")).hasValue(WebActions.ALLOWED_METHODS);
        assertThat(get.header("Access-Control-Allow-Headers")).hasValue(WebActions.ALLOWED_HEADERS);
    }

    @Test
    void optionsIsTheActionsWithWebCustomOptions() throws Exception {
        action("custom", "respond", annotations("web-export", true, "web-custom-options", true), (ObjectNode) json.readTree(
                "{\"parameters\":[{\"key\":\"response\",\"value\":{\"headers\":{\"Access-Control-Allow-Methods\":\"GET\"},\"statusCode\":200}}]}"));
        Reply r = web("OPTIONS", "alice/default/custom", Map.of(), null);
        assertThat(r.header("Access-Control-Allow-Methods")).hasValue("GET");
        assertThat(r.header(ID_HEADER)).isPresent();
        Reply def = web("OPTIONS", "alice/default/echo", Map.of(), null);
        assertThat(def.header("Access-Control-Allow-Methods")).hasValue(WebActions.ALLOWED_METHODS);
    }

    // --- outcomes --------------------------------------------------------------------------------

    @Test
    void theActivationIsTheOwnersAndItsIdIsOnTheAnswer() throws Exception {
        Reply r = get("alice/demo/echo.json?who=anyone");
        assertThat(r.status()).isEqualTo(200);
        String id = r.header(ID_HEADER).orElseThrow();
        assertThat(id).matches("[0-9a-f]{32}");
        assertThat(zone.api().flushActivations(10_000)).isTrue();
        Reply record = zone.as(alice, "GET", "/alice/activations/" + id, null);
        assertThat(record.status()).isEqualTo(200);
        JsonNode a = record.json();
        assertThat(a.path("namespace").asText()).isEqualTo("alice");
        assertThat(a.path("subject").asText()).isEqualTo("alice");
        assertThat(a.path("name").asText()).isEqualTo("echo");
        assertThat(a.path("response").path("result").path("who").asText()).isEqualTo("anyone");
        boolean pathAnnotated = false;
        for (JsonNode ann : a.path("annotations")) {
            if (ann.path("key").asText().equals("path")) {
                pathAnnotated = ann.path("value").asText().equals("alice/demo/echo");
            }
        }
        assertThat(pathAnnotated).isTrue();
    }

    @Test
    void failedActivationsAnswer502ButAnHttpErrorIsServed() throws Exception {
        action("failing", "fail", annotations("web-export", true), null);
        Reply failed = postJson("alice/default/failing.json", Map.of("error", "it broke"));
        assertThat(failed.status()).isEqualTo(502);
        assertThat(failed.json().path("error").asText()).isEqualTo("it broke");
        assertThat(failed.json().path("code").asText()).isNotEmpty();
        assertThat(failed.header(ID_HEADER)).isPresent();

        // {error: {statusCode, body}} under .http is how an OpenWhisk action answers 4xx.
        Reply forbidden = postJson("alice/default/failing.http", Map.of("error", Map.of("statusCode", 403, "body", "nope")));
        assertThat(forbidden.status()).isEqualTo(403);
        assertThat(forbidden.text()).isEqualTo("nope");
        assertThat(forbidden.header(ID_HEADER)).isPresent();

        action("crashing", "crash", annotations("web-export", true), null);
        Reply crashed = get("alice/default/crashing");
        assertThat(crashed.status()).isEqualTo(502);
        assertThat(crashed.json().path("error").asText()).contains("did not produce a valid response");
        assertThat(crashed.header(ID_HEADER)).isPresent();
    }

    @Test
    void aSequenceIsServedTheSameWay() throws Exception {
        action("step", "count", json.createArrayNode(), null);
        ObjectNode seq = json.createObjectNode();
        seq.putObject("exec").put("kind", "sequence").putArray("components").add("/alice/step").add("/alice/step");
        seq.set("annotations", annotations("web-export", true));
        assertThat(zone.as(alice, "PUT", "/alice/actions/twice?overwrite=true", seq.toString()).status()).isEqualTo(200);
        Reply r = get("alice/default/twice.json?count=10");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().path("count").asInt()).isEqualTo(12);
        assertThat(r.json().path("__ow_method").asText()).isEqualTo("get");
        assertThat(get("alice/default/twice.text/count").text()).isEqualTo("2");
        assertThat(r.header(ID_HEADER)).isPresent();
    }

    @Test
    void anActionThatRunsTooLongIsAcceptedWithItsId() throws Exception {
        action("slow", "hang", annotations("web-export", true), (ObjectNode) json.readTree("{\"limits\":{\"timeout\":100}}"));
        long started = System.nanoTime();
        Reply r = get("alice/default/slow.json");
        long tookMs = (System.nanoTime() - started) / 1_000_000;
        assertThat(r.status()).isEqualTo(202);
        String id = r.header(ID_HEADER).orElseThrow();
        assertThat(r.json().path("activationId").asText()).isEqualTo(id);
        // The time limit and the margin, not OpenWhisk's whole minute.
        assertThat(tookMs).isBetween(100L + WebActions.WAIT_MARGIN_MILLIS - 50, 30_000L);
    }
}
