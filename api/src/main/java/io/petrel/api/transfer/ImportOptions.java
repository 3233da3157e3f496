package io.petrel.api.transfer;

import io.petrel.api.ApiException;
import io.petrel.api.entity.EntityName;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * How an archive is imported.
 *
 * @param namespace  the namespace it goes into (which must exist)
 * @param onConflict what to do with an item the namespace holds already, with other content
 * @param dryRun     only report what would be done
 * @param keys       whether key identities are imported (and, with {@code REPLACE}, deleted); without,
 *                   the namespace's keys are left as they are
 * @param callerKey  the uuid of the key making the request: {@code REPLACE} never deletes it, so an
 *                   import cannot lock out whoever runs it
 */
public record ImportOptions(String namespace, OnConflict onConflict, boolean dryRun, boolean keys, Optional<String> callerKey) {
    public ImportOptions {
        requireNonNull(namespace, "namespace");
        requireNonNull(onConflict, "onConflict");
        requireNonNull(callerKey, "callerKey");
        if (!EntityName.isValidNamespace(namespace)) {
            throw ApiException.badRequest(ApiException.BAD_NAME);
        }
    }

    /** What an import does with an item that exists in the namespace with other content. */
    public enum OnConflict {
        /** Keep the namespace's item. */
        SKIP,
        /** Replace it with the archive's. */
        OVERWRITE,
        /** Refuse the whole import (409) and change nothing. */
        FAIL,
        /** Like {@link #OVERWRITE}, and delete what the archive's namespace did not hold: the namespace ends up exactly the archive's. */
        REPLACE;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static OnConflict parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException | NullPointerException e) {
                throw ApiException.badRequest("onConflict must be one of " + Arrays.stream(values()).map(OnConflict::id).toList() + ", got '" + s + "'.");
            }
        }
    }
}
