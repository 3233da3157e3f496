package io.petrel.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.api.http.ApiServer;
import io.petrel.store.ratis.InProcessGroup;
import io.petrel.store.ratis.RatisStore;
import io.petrel.store.ratis.StoreTuning;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** One zone's API, over a real three-replica store in this JVM, on a free loopback port: for HTTP tests. */
final class InProcessApi implements AutoCloseable {
    private final InProcessGroup group;
    private final RatisStore store;
    private final OpenWhiskApi api;
    private final ApiServer server;

    private InProcessApi(InProcessGroup group, RatisStore store, OpenWhiskApi api, ApiServer server) {
        this.group = group;
        this.store = store;
        this.api = api;
        this.server = server;
    }

    static InProcessApi start(String name, OpenWhiskApi.Config config, ObjectMapper json) throws Exception {
        Path dir = Files.createTempDirectory("petrel-api-" + name);
        InProcessGroup group = new InProcessGroup(dir, 3, StoreTuning.DEFAULT);
        RatisStore store = group.client();
        OpenWhiskApi api = new OpenWhiskApi(config, store, json, System::currentTimeMillis);
        ApiServer server = new ApiServer(config.zone(), List.of(new ApiServer.Listen("127.0.0.1", 0, false)), api, json);
        server.start();
        return new InProcessApi(group, store, api, server);
    }

    RatisStore store() {
        return store;
    }

    OpenWhiskApi api() {
        return api;
    }

    int port() {
        return server.port(0);
    }

    String base() {
        return "http://127.0.0.1:" + port();
    }

    @Override
    public void close() throws Exception {
        server.close();
        api.close();
        store.close();
        group.close();
    }
}
