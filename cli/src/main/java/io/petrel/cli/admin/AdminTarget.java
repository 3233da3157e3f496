package io.petrel.cli.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.cli.local.RegionLayout;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Where the admin commands send their requests and with which credential: {@code --api} and
 * {@code --admin-key-file}, else {@code PETREL_API} and {@code PETREL_ADMIN_KEY}, else the local
 * region's shared API address and the admin key file {@code ./petrel up} wrote.
 */
public final class AdminTarget {
    @Option(names = "--api", paramLabel = "URL", description = "the API's base URL (default: $PETREL_API, else the local region's, http://127.0.0.1:3233)")
    URI api;

    @Option(names = "--admin-key-file", paramLabel = "FILE", description = "file holding the admin key (default: $PETREL_ADMIN_KEY, else the local region's admin.key)")
    Path adminKeyFile;

    @Option(names = "--data", paramLabel = "DIR", description = "the local region's data folder (default: the last region `up` started)")
    Path data;

    /** Builds the client; {@code localRegion} finds the local region's folder when no option says otherwise. */
    public AdminClient connect(Map<String, String> env, Supplier<Path> localRegion) throws IOException {
        Path dir = data != null ? data.toAbsolutePath() : localRegion.get();
        RegionLayout layout = RegionLayout.exists(dir) ? RegionLayout.load(dir) : null;
        URI base = api != null ? api
                : env.containsKey("PETREL_API") ? URI.create(env.get("PETREL_API"))
                : layout != null && layout.sharedApi() != null ? URI.create("http://" + layout.sharedApi())
                : URI.create("http://127.0.0.1:" + RegionLayout.API_PORT);
        String key;
        if (adminKeyFile != null) {
            key = read(adminKeyFile);
        } else if (env.containsKey("PETREL_ADMIN_KEY")) {
            key = env.get("PETREL_ADMIN_KEY").trim();
        } else if (layout != null) {
            key = read(layout.adminKeyFile());
        } else {
            throw new AdminClient.AdminException("no admin key: no local region in " + dir
                    + "; give --admin-key-file FILE or set PETREL_ADMIN_KEY");
        }
        return new AdminClient(base, key, new ObjectMapper());
    }

    private static String read(Path file) throws IOException {
        if (!Files.isReadable(file)) {
            throw new AdminClient.AdminException("cannot read the admin key file " + file);
        }
        String key = Files.readString(file).trim();
        if (key.isEmpty()) {
            throw new AdminClient.AdminException("the admin key file " + file + " is empty");
        }
        return key;
    }
}
