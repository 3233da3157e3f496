package io.petrel.gateway;

import static java.util.Objects.requireNonNull;

/**
 * One gateway instance of the region, as every instance knows it: its name and its admin address,
 * whose host is also the address DNS gives out for it.
 */
public record GatewayPeer(String name, HostPort admin) {
    public GatewayPeer {
        requireNonNull(name, "name");
        requireNonNull(admin, "admin");
    }
}
