package io.petrel.api.transfer;

import static java.util.Objects.requireNonNull;

/**
 * Where an archive was taken: {@code id} names the source namespace's incarnation in its store (a
 * namespace deleted and made again gets a new one, and so does one in another region), which is
 * what lets an incremental archive be matched to the copy it continues; {@code zone} is the zone
 * that wrote it. The API does not know its region's name yet, so an archive does not say.
 */
public record ArchiveSource(String id, String zone) {
    public ArchiveSource {
        requireNonNull(id, "id");
        requireNonNull(zone, "zone");
    }
}
