package io.petrel.gateway;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * A region's disaster-recovery state: what one zone answers on {@code /admin/v1/dr}, or what the
 * region's gateways make of all their zones' answers ({@link #combine}). {@code primary} is the
 * region the reporter believes primary, null when it did not say.
 */
public record DrView(String region, DrRole role, long epoch, boolean writable, String primary, long lagEntries) {
    public DrView {
        requireNonNull(region, "region");
        requireNonNull(role, "role");
        if (role == DrRole.SOLO) {
            epoch = 0; // a region without DR is a primary that was never promoted
        }
    }

    /**
     * Reads a view from its JSON ({@code region}, {@code role}, {@code epoch}, {@code writable},
     * {@code primary}, {@code lagEntries}); empty when it has no role this gateway knows, so that a
     * malformed answer contributes nothing rather than a guess. {@code defaultRegion} stands in for a
     * missing {@code region}.
     */
    static Optional<DrView> fromJson(JsonNode n, String defaultRegion) {
        if (n == null || !n.isObject()) {
            return Optional.empty();
        }
        Optional<DrRole> role = DrRole.parse(n.path("role").isTextual() ? n.path("role").asText() : null);
        if (role.isEmpty() || (role.get() != DrRole.SOLO && !n.path("epoch").canConvertToLong())) {
            return Optional.empty();
        }
        String region = n.path("region").isTextual() ? n.path("region").asText() : defaultRegion;
        // A plain region takes writes unless it says otherwise; a DR role must say so itself.
        boolean writable = n.path("writable").isBoolean() ? n.path("writable").asBoolean() : role.get() == DrRole.SOLO;
        String primary = n.path("primary").isTextual() ? n.path("primary").asText() : null;
        return Optional.of(new DrView(region, role.get(), n.path("epoch").asLong(0), writable, primary, n.path("lagEntries").asLong(0)));
    }

    /**
     * One view out of several reports of the same region (its zones', or its gateways'): the one with
     * the highest epoch, writable if any report of that epoch says writable. Among reports of that
     * epoch a writable one, then a primary's, then a promoting one's gives the other fields. Empty
     * when there is no report.
     */
    static Optional<DrView> combine(Collection<DrView> reports) {
        Optional<DrView> best = reports.stream().max(Comparator.comparingLong(DrView::epoch).thenComparing(DrView::writable)
                .thenComparing(v -> rank(v.role())));
        return best.map(b -> {
            boolean writable = reports.stream().anyMatch(v -> v.epoch() == b.epoch() && v.writable());
            return new DrView(b.region(), b.role(), b.epoch(), writable, b.primary(), b.lagEntries());
        });
    }

    private static int rank(DrRole role) {
        return switch (role) {
            case PRIMARY, SOLO -> 3;
            case PROMOTING -> 2;
            case STANDBY -> 1;
            case DEMOTED -> 0;
        };
    }

    /** The JSON of {@code /gateway/v1/status}'s {@code dr}: the same fields as a zone's answer. */
    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("region", region);
        m.put("role", role.name());
        m.put("epoch", epoch);
        m.put("writable", writable);
        m.put("primary", primary);
        m.put("lagEntries", lagEntries);
        return m;
    }
}
