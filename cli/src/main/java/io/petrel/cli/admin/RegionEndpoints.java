package io.petrel.cli.admin;

import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * Where the command line reaches a region: a list of API base URLs, tried in order. A URL whose host
 * is a name is resolved here, with dnsjava, against the region's DNS server ({@code --dns}) or the
 * system's resolvers, on every command, so the answer is never older than its 5 s TTL. The JVM's own
 * resolver would keep it 30 s (networkaddress.cache.ttl), and send a client to a dead zone that long.
 */
public final class RegionEndpoints {
    private final List<URI> given;
    private final Optional<InetSocketAddress> dnsServer;

    public RegionEndpoints(List<URI> given, Optional<InetSocketAddress> dnsServer) {
        this.given = List.copyOf(given);
        this.dnsServer = requireNonNull(dnsServer, "dnsServer");
        if (this.given.isEmpty()) {
            throw new IllegalArgumentException("no API endpoint to reach the region");
        }
    }

    /** Parses {@code url[,url...]}. */
    public static List<URI> parseList(String urls) {
        List<URI> out = new ArrayList<>();
        for (String s : urls.split(",")) {
            String t = s.trim();
            if (t.isEmpty()) {
                continue;
            }
            URI u = URI.create(t.contains("://") ? t : "http://" + t);
            if (u.getHost() == null) {
                throw new IllegalArgumentException("'" + t + "' is not an API address (http://host:port)");
            }
            out.add(u);
        }
        return out;
    }

    public static InetSocketAddress parseDns(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        try {
            return colon < 0 ? new InetSocketAddress(InetAddress.getByName(hostPort), 53)
                    : new InetSocketAddress(InetAddress.getByName(hostPort.substring(0, colon)), Integer.parseInt(hostPort.substring(colon + 1)));
        } catch (IOException | NumberFormatException e) {
            throw new IllegalArgumentException("--dns must be host[:port], got '" + hostPort + "'");
        }
    }

    public List<URI> given() {
        return given;
    }

    /** Every address to try, in order: each URL, its name replaced by each address DNS gives for it now. */
    public List<URI> resolve() {
        LinkedHashSet<URI> out = new LinkedHashSet<>();
        for (URI u : given) {
            if (isAddress(u.getHost())) {
                out.add(u);
                continue;
            }
            for (InetAddress a : lookup(u.getHost())) {
                out.add(withHost(u, a.getHostAddress()));
            }
        }
        return List.copyOf(out);
    }

    private List<InetAddress> lookup(String host) {
        try {
            Resolver resolver = dnsServer.isPresent() ? new SimpleResolver(dnsServer.get()) : new org.xbill.DNS.ExtendedResolver();
            resolver.setTimeout(Duration.ofSeconds(2));
            Name name = Name.fromString(host.endsWith(".") ? host : host + ".");
            Message answer = resolver.send(Message.newQuery(Record.newRecord(name, Type.A, DClass.IN)));
            if (answer.getRcode() != Rcode.NOERROR) {
                throw new AdminClient.AdminException("DNS has no address for " + host + " (" + Rcode.string(answer.getRcode()) + ")"
                        + dnsServer.map(d -> " at " + d.getAddress().getHostAddress() + ":" + d.getPort()).orElse(""));
            }
            List<InetAddress> out = new ArrayList<>();
            for (Record r : answer.getSection(Section.ANSWER)) {
                if (r instanceof ARecord a) {
                    out.add(a.getAddress());
                }
            }
            if (out.isEmpty()) {
                throw new AdminClient.AdminException("DNS has no address for " + host);
            }
            return out;
        } catch (IOException e) {
            throw new AdminClient.AdminException("cannot resolve " + host
                    + dnsServer.map(d -> " at " + d.getAddress().getHostAddress() + ":" + d.getPort()).orElse("") + ": " + e.getMessage());
        }
    }

    private static boolean isAddress(String host) {
        return host.matches("[0-9.]+") || host.contains(":") || host.startsWith("[");
    }

    private static URI withHost(URI u, String host) {
        try {
            return new URI(u.getScheme(), u.getUserInfo(), host, u.getPort(), u.getPath(), u.getQuery(), u.getFragment());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
