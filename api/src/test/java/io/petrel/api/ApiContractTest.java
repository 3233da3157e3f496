package io.petrel.api;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.Optional;

/** The API contract against one zone's API over a real three-replica store in this JVM. */
class ApiContractTest extends ApiContract {
    private static final String ADMIN = "contract-test-admin-key-0123456789abcdef";
    private InProcessApi zone;

    @Override
    protected Endpoint open() throws Exception {
        zone = InProcessApi.start("contract", new OpenWhiskApi.Config("z0", Optional.of(ADMIN)), new ObjectMapper());
        return new Endpoint(zone.base(), ADMIN);
    }

    @Override
    protected void close() throws Exception {
        zone.close();
    }
}
