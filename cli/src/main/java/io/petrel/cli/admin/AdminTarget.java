package io.petrel.cli.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.cli.local.RegionLayout;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Where the admin commands send their requests and with which credential: {@code --api} (one or
 * more endpoints, or a DNS name resolved at {@code --dns}) and {@code --admin-key-file}, else
 * {@code PETREL_API}, {@code PETREL_DNS} and {@code PETREL_ADMIN_KEY}, else the local region's
 * endpoints (its shared gateway address, each gateway instance, then each zone's own API) and the
 * admin key file {@code ./petrel up} wrote.
 */
public final class AdminTarget {
    @Option(names = "--api", paramLabel = "URL[,URL...]",
            description = "the region's API: one or more base URLs tried in order, or a DNS name such as http://gw.local.petrel.internal:3233 "
                    + "(default: $PETREL_API, else the local region's gateways, then its zones)")
    String api;

    @Option(names = "--dns", paramLabel = "HOST:PORT",
            description = "the DNS server that resolves names in --api (default: $PETREL_DNS, else the local region's, else the system's)")
    String dns;

    @Option(names = "--admin-key-file", paramLabel = "FILE", description = "file holding the admin key (default: $PETREL_ADMIN_KEY, else the local region's admin.key)")
    Path adminKeyFile;

    @Option(names = "--data", paramLabel = "DIR", description = "the local region's data folder (default: the last region `up` started)")
    Path data;

    @Option(names = "--region", paramLabel = "NAME", description = "a named local region (started with `up --region NAME`)")
    String region;

    /** The named local region asked for, if any (the caller knows where named regions live). */
    public java.util.Optional<String> region() {
        return java.util.Optional.ofNullable(region);
    }

    /** Builds the client; {@code localRegion} finds the local region's folder when no option says otherwise. */
    public AdminClient connect(Map<String, String> env, Supplier<Path> localRegion) throws IOException {
        Path dir = data != null ? data.toAbsolutePath() : localRegion.get();
        RegionLayout layout = RegionLayout.exists(dir) ? RegionLayout.load(dir) : null;
        List<URI> urls = api != null ? RegionEndpoints.parseList(api)
                : env.containsKey("PETREL_API") ? RegionEndpoints.parseList(env.get("PETREL_API"))
                : layout != null ? localEndpoints(layout)
                : List.of(URI.create("http://127.0.0.1:" + RegionLayout.API_PORT));
        String dnsServer = dns != null ? dns : env.containsKey("PETREL_DNS") ? env.get("PETREL_DNS")
                : layout != null && layout.sharedDns() != null ? layout.sharedDns() : null;
        RegionEndpoints endpoints = new RegionEndpoints(urls, Optional.ofNullable(dnsServer).map(RegionEndpoints::parseDns));
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
        return new AdminClient(endpoints, key, new ObjectMapper());
    }

    /** The shared gateway address, each gateway instance's own, then each zone's API (if every gateway is gone). */
    public static List<URI> localEndpoints(RegionLayout layout) {
        List<URI> out = new ArrayList<>();
        if (layout.sharedApi() != null) {
            out.add(URI.create("http://" + layout.sharedApi()));
        }
        layout.gateways().forEach(g -> out.add(URI.create(g.apiUrl())));
        layout.zones().forEach(z -> out.add(URI.create(z.apiUrl())));
        return out;
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
