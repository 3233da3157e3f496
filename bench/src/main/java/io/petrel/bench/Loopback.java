package io.petrel.bench;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;

/** The benchmark sends traffic only to this machine: every address it is given must be loopback. */
final class Loopback {
    private Loopback() {
    }

    static boolean isLoopbackHost(String host) {
        try {
            // Literal addresses only resolve locally; a name would need DNS, and is refused below anyway.
            return host != null && !host.isEmpty() && Character.isDigit(host.charAt(0))
                    && InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    static boolean isLoopbackUrl(String url) {
        try {
            return isLoopbackHost(URI.create(url).getHost());
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
