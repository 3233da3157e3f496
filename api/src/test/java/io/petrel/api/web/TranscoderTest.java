package io.petrel.api.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.api.ApiException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The parts of web actions that need no server: URL parsing, media types, and results turned into answers. */
class TranscoderTest {
    private final ObjectMapper json = new ObjectMapper();

    private JsonNode js(String s) throws Exception {
        return json.readTree(s);
    }

    @Test
    void urlsNameNamespacePackageActionExtensionAndExtraPath() {
        WebPath p = WebPath.parse(List.of("guest", "demo", "hello.json", "body", "", "name"));
        assertThat(p.namespace()).isEqualTo("guest");
        assertThat(p.pkg()).hasValue("demo");
        assertThat(p.action()).isEqualTo("hello");
        assertThat(p.extension()).isEqualTo(Extension.JSON);
        assertThat(p.extraPath()).isEqualTo("/body//name");
        assertThat(p.projection()).containsExactly("body", "name");

        WebPath plain = WebPath.parse(List.of("guest", "default", "hello"));
        assertThat(plain.pkg()).isEmpty();
        assertThat(plain.extension()).isEqualTo(Extension.HTTP);
        assertThat(plain.extraPath()).isEmpty();
        // Names may contain dots; only a known extension is taken off.
        assertThat(WebPath.parse(List.of("guest", "default", "v1.2")).action()).isEqualTo("v1.2");
        assertThat(WebPath.parse(List.of("guest", "default", "my.page.html")).action()).isEqualTo("my.page");
        assertThat(WebPath.parse(List.of("guest", "default", "x.TEXT")).extension()).isEqualTo(Extension.TEXT);
        assertThat(WebPath.parse(List.of("guest", "default", "trailing.json", "")).extraPath()).isEqualTo("/");

        for (List<String> bad : List.of(List.of("guest", "default"), List.of("_", "default", "a"), List.of("guest", "default", ".json"),
                List.of("guest", "bad/pkg?", "a"), List.of("gu est", "default", "a"))) {
            assertThatThrownBy(() -> WebPath.parse(bad)).as("%s", bad).isInstanceOfSatisfying(ApiException.class,
                    e -> assertThat(e.status()).isEqualTo(404));
        }
    }

    @Test
    void textAndBinaryMediaTypes() {
        for (String text : List.of("text/plain", "text/html", "application/json", "application/problem+json", "application/xml",
                "application/atom+xml", "application/javascript", "application/x-www-form-urlencoded")) {
            assertThat(MediaTypes.isBinary(text)).as(text).isFalse();
        }
        for (String binary : List.of("image/png", "application/octet-stream", "application/pdf", "image/svg+xml", "audio/mpeg")) {
            assertThat(MediaTypes.isBinary(binary)).as(binary).isTrue();
        }
        assertThat(MediaTypes.base(" Text/HTML ; charset=utf-8")).hasValue("text/html");
        assertThat(MediaTypes.base("nonsense")).isEmpty();
        assertThat(MediaTypes.base(null)).isEmpty();
    }

    @Test
    void httpAnswers() throws Exception {
        WebResponse r = Transcoder.http(js("{\"statusCode\":\"201\",\"headers\":{\"A\":[\"1\",2,true],\"Content-Length\":\"999\"},\"body\":\"x\"}"));
        assertThat(r.status()).isEqualTo(201);
        assertThat(r.headers()).containsExactly(new WebResponse.Header("A", "1"), new WebResponse.Header("A", "2"),
                new WebResponse.Header("A", "true"));
        assertThat(r.contentType()).hasValue("text/html; charset=UTF-8");

        WebResponse empty = Transcoder.http(js("{\"statusCode\":200,\"headers\":{\"Content-Type\":\"text/plain\"},\"body\":\"\"}"));
        assertThat(empty.status()).isEqualTo(200);
        assertThat(empty.contentType()).isEmpty();
        assertThat(empty.body()).isEmpty();
        assertThat(Transcoder.http(js("{\"body\":null}")).status()).isEqualTo(204);
        assertThat(Transcoder.http(js("{\"statusCode\":404.0,\"body\":\"gone\"}")).status()).isEqualTo(404);

        // base64 from 76-column encoders has line breaks
        WebResponse wrapped = Transcoder.http(js("{\"headers\":{\"content-type\":\"application/octet-stream\"},\"body\":\"aGVs\\nbG8=\"}"));
        assertThat(new String(wrapped.body(), StandardCharsets.UTF_8)).isEqualTo("hello");
        WebResponse charset = Transcoder.http(js("{\"headers\":{\"Content-Type\":\"text/csv; charset=ISO-8859-1\"},\"body\":\"a,b\"}"));
        assertThat(charset.contentType()).hasValue("text/csv; charset=ISO-8859-1");
        WebResponse array = Transcoder.http(js("{\"body\":[1,2]}"));
        assertThat(array.contentType()).hasValue("application/json");
        assertThat(new String(array.body(), StandardCharsets.UTF_8)).isEqualTo("[1,2]");

        for (String bad : List.of("[]", "\"text\"", "{\"statusCode\":\"abc\"}", "{\"statusCode\":20.5}", "{\"statusCode\":true}",
                "{\"headers\":[]}", "{\"headers\":{\"A\":{}}}", "{\"headers\":{\"Bad Name\":\"x\"}}",
                "{\"headers\":{\"Content-Type\":\"no-slash\"},\"body\":\"x\"}", "{\"headers\":{\"Content-Type\":\"image/png\"},\"body\":\"%%%\"}",
                "{\"headers\":{\"Content-Type\":\"text/html\"},\"body\":{\"a\":1}}")) {
            assertThatThrownBy(() -> Transcoder.http(js(bad))).as(bad).isInstanceOfSatisfying(ApiException.class, e -> {
                assertThat(e.status()).isEqualTo(400);
                assertThat(e.getMessage()).startsWith("Response is not valid 'message/http': ");
            });
        }
    }

    @Test
    void projectionsFollowFieldsAndIndexes() throws Exception {
        JsonNode result = js("{\"a\":{\"list\":[{\"x\":\"first\"},{\"x\":\"second\"}]}}");
        assertThat(Transcoder.project(result, List.of("a", "list", "1", "x")).asText()).isEqualTo("second");
        assertThat(Transcoder.project(result, List.of())).isSameAs(result);
        assertThatThrownBy(() -> Transcoder.project(result, List.of("a", "list", "7"))).isInstanceOfSatisfying(ApiException.class,
                e -> assertThat(e.status()).isEqualTo(404));
        WebResponse list = Transcoder.success(Extension.JSON, result, List.of("a", "list"), this.json);
        assertThat(new String(list.body(), StandardCharsets.UTF_8)).isEqualTo("[{\"x\":\"first\"},{\"x\":\"second\"}]");
        // "body" is served before the extension's own field, as OpenWhisk does.
        WebResponse html = Transcoder.success(Extension.HTML, js("{\"body\":\"<b>b</b>\",\"html\":\"<i>h</i>\"}"), List.of(), this.json);
        assertThat(new String(html.body(), StandardCharsets.UTF_8)).isEqualTo("<b>b</b>");
        // A projection names the value itself: no field lookup inside it.
        assertThatThrownBy(() -> Transcoder.success(Extension.HTML, js("{\"p\":{\"html\":\"x\"}}"), List.of("p"), this.json))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.getMessage()).contains("at '/p' is an object, not a string"));
        assertThat(json.readTree(Transcoder.success(Extension.TEXT, js("{\"p\":{\"text\":\"x\"}}"), List.of("p"), this.json).body()))
                .isEqualTo(js("{\"text\":\"x\"}"));
        assertThat(Transcoder.success(Extension.TEXT, js("{\"text\":null}"), List.of(), this.json).body())
                .isEqualTo("null".getBytes(StandardCharsets.UTF_8));
        assertThat(Transcoder.success(Extension.SVG, js("{\"svg\":\"<svg/>\"}"), List.of(), this.json).contentType())
                .isEqualTo(Optional.of("image/svg+xml"));
    }
}
