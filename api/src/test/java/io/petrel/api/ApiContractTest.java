package io.petrel.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.api.http.ApiServer;
import io.petrel.store.ratis.InProcessGroup;
import io.petrel.store.ratis.StoreTuning;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** The API contract against one zone's API over a real three-replica store in this JVM. */
class ApiContractTest extends ApiContract {
    private static final String ADMIN = "contract-test-admin-key-0123456789abcdef";
    private InProcessGroup group;
    private OpenWhiskApi api;
    private ApiServer server;

    @Override
    protected Endpoint open() throws Exception {
        ObjectMapper json = new ObjectMapper();
        Path dir = Files.createTempDirectory("petrel-api-contract");
        group = new InProcessGroup(dir, 3, StoreTuning.DEFAULT);
        api = new OpenWhiskApi(new OpenWhiskApi.Config("z0", Optional.of(ADMIN)), group.client(), json, System::currentTimeMillis);
        server = new ApiServer("z0", List.of(new ApiServer.Listen("127.0.0.1", 0, false)), api, json);
        server.start();
        return new Endpoint("http://127.0.0.1:" + server.port(0), ADMIN);
    }

    @Override
    protected void close() throws Exception {
        server.close();
        api.close();
        group.close();
    }
}
