package io.petrel.cli.transfer;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.petrel.cli.admin.AdminTarget;
import io.petrel.cli.admin.RegionEndpoints;
import io.petrel.cli.local.RegionLayout;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Supplier;

/**
 * Where a tenant command sends its requests and with which key. The key: {@code --auth}, else
 * {@code PETREL_AUTH}, else {@code AUTH} in the wsk CLI's properties file ({@code WSK_CONFIG_FILE},
 * else {@code ~/.wskprops}), as {@code wsk} finds it. The API: {@code --api} (one or more
 * endpoints, or a DNS name resolved at {@code --dns}), else {@code PETREL_API}, else {@code APIHOST}
 * in the same properties file, else the local region's endpoints.
 */
public final class TenantTarget {
    @Option(names = "--api", paramLabel = "URL[,URL...]",
            description = "the region's API: one or more base URLs tried in order (default: $PETREL_API, else APIHOST in ~/.wskprops,"
                    + " else the local region)")
    String api;

    @Option(names = "--dns", paramLabel = "HOST:PORT", description = "the DNS server that resolves names in --api (default: $PETREL_DNS)")
    String dns;

    @Option(names = "--auth", paramLabel = "UUID:KEY",
            description = "a key of the namespace (default: $PETREL_AUTH, else AUTH in ~/.wskprops or the file $WSK_CONFIG_FILE names)")
    String auth;

    @Option(names = "--data", paramLabel = "DIR", description = "the local region's data folder (default: the last region `up` started)")
    Path data;

    @Option(names = "--region", paramLabel = "NAME", description = "a named local region (started with `up --region NAME`)")
    String region;

    /** The named local region asked for, if any (the caller knows where named regions live). */
    public java.util.Optional<String> region() {
        return java.util.Optional.ofNullable(region);
    }

    /** Builds the client; {@code localRegion} finds the local region's folder when nothing else says where the API is. */
    public TenantClient connect(Map<String, String> env, Supplier<Path> localRegion) throws IOException {
        Properties wsk = wskProperties(env);
        List<URI> urls;
        if (api != null) {
            urls = RegionEndpoints.parseList(api);
        } else if (env.containsKey("PETREL_API")) {
            urls = RegionEndpoints.parseList(env.get("PETREL_API"));
        } else if (wsk.getProperty("APIHOST") != null) {
            urls = RegionEndpoints.parseList(wsk.getProperty("APIHOST"));
        } else {
            Path dir = data != null ? data.toAbsolutePath() : localRegion.get();
            urls = RegionLayout.exists(dir) ? AdminTarget.localEndpoints(RegionLayout.load(dir))
                    : List.of(URI.create("http://127.0.0.1:" + RegionLayout.API_PORT));
        }
        String dnsServer = dns != null ? dns : env.get("PETREL_DNS");
        return new TenantClient(new RegionEndpoints(urls, Optional.ofNullable(dnsServer).map(RegionEndpoints::parseDns)), key(env, wsk),
                new ObjectMapper());
    }

    /** The tenant's key, from the first place that has one. */
    String key(Map<String, String> env, Properties wsk) {
        String key = auth != null ? auth : env.containsKey("PETREL_AUTH") ? env.get("PETREL_AUTH") : wsk.getProperty("AUTH");
        if (key == null || key.isBlank()) {
            throw new TenantClient.TransferException(0, "no key: give --auth UUID:KEY (a key of the namespace), set PETREL_AUTH,"
                    + " or put AUTH=UUID:KEY in ~/.wskprops as the wsk CLI does");
        }
        return requireKeyShape(key.trim(), "the key");
    }

    /** Refuses what cannot be a key before it is sent anywhere. */
    public static String requireKeyShape(String key, String what) {
        if (!key.matches("[0-9a-fA-F-]{36}:[0-9A-Za-z]{64}")) {
            throw new TenantClient.TransferException(0, what + " must look like UUID:KEY (36 + 1 + 64 characters), as `petrel ns create` prints it");
        }
        return key;
    }

    /** {@code WSK_CONFIG_FILE}, else {@code ~/.wskprops}; empty if there is none. */
    static Properties wskProperties(Map<String, String> env) throws IOException {
        Path file = env.containsKey("WSK_CONFIG_FILE") ? Path.of(env.get("WSK_CONFIG_FILE")) : Path.of(System.getProperty("user.home"), ".wskprops");
        Properties p = new Properties();
        if (Files.isReadable(file)) {
            try (Reader r = Files.newBufferedReader(file)) {
                p.load(r);
            }
        }
        return p;
    }
}
