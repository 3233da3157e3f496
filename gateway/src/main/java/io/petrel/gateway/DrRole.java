package io.petrel.gateway;

import java.util.Locale;
import java.util.Optional;

/** A region's disaster-recovery role, as its zones report it on {@code /admin/v1/dr}. */
public enum DrRole {
    /** No standby region configured: a plain region, taken as a primary of epoch 0. */
    SOLO,
    PRIMARY,
    STANDBY,
    /** Taking over from the primary: not writable yet. */
    PROMOTING,
    /** A former primary that has handed over: never writable again in its epoch. */
    DEMOTED;

    /** Whether a region in this role may be the one that takes writes. */
    boolean primaryLike() {
        return this == SOLO || this == PRIMARY;
    }

    /** The role named {@code text}, or empty for anything else (a newer role this gateway does not know counts as no answer). */
    static Optional<DrRole> parse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(valueOf(text.trim().toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
