package io.petrel.gateway;

import org.junit.jupiter.api.Test;

import static io.petrel.gateway.RequestKind.IDEMPOTENT_WRITE;
import static io.petrel.gateway.RequestKind.READ;
import static io.petrel.gateway.RequestKind.UNSAFE;
import static org.assertj.core.api.Assertions.assertThat;

class RequestKindTest {
    @Test
    void invocationsFiresWebActionsAndAdminWritesAreNeverRetriedOnceTheyReachedAZone() {
        assertThat(RequestKind.of("POST", "/api/v1/namespaces/_/actions/hello")).isEqualTo(UNSAFE);
        assertThat(RequestKind.of("POST", "/api/v1/namespaces/guest/actions/pkg/hello")).isEqualTo(UNSAFE);
        assertThat(RequestKind.of("POST", "/api/v1/namespaces/_/triggers/t")).isEqualTo(UNSAFE);
        assertThat(RequestKind.of("GET", "/api/v1/web/guest/default/hello.json")).isEqualTo(UNSAFE);
        assertThat(RequestKind.of("POST", "/admin/v1/namespaces")).isEqualTo(UNSAFE);
        assertThat(RequestKind.of("DELETE", "/admin/v1/namespaces/acme")).isEqualTo(UNSAFE);
    }

    @Test
    void readsAndEntityWritesAreRetried() {
        assertThat(RequestKind.of("GET", "/api/v1/namespaces/_/actions/hello")).isEqualTo(READ);
        assertThat(RequestKind.of("HEAD", "/api/v1/namespaces/_/artifacts/m.bin")).isEqualTo(READ);
        assertThat(RequestKind.of("GET", "/admin/v1/namespaces")).isEqualTo(READ);
        assertThat(RequestKind.of("PUT", "/api/v1/namespaces/_/actions/hello")).isEqualTo(IDEMPOTENT_WRITE);
        assertThat(RequestKind.of("DELETE", "/api/v1/namespaces/_/rules/r")).isEqualTo(IDEMPOTENT_WRITE);
        assertThat(RequestKind.of("POST", "/api/v1/namespaces/_/rules/r")).isEqualTo(IDEMPOTENT_WRITE);
        assertThat(RequestKind.of("PUT", "/api/v1/namespaces/_/artifacts/models/v1.bin")).isEqualTo(IDEMPOTENT_WRITE);
    }
}
