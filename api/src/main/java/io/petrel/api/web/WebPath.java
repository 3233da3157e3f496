package io.petrel.api.web;

import io.petrel.api.ApiException;
import io.petrel.api.entity.EntityName;

import java.util.List;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * Where a web action request points: {@code {namespace}/{package|default}/{action}[.ext][/extra/path]}
 * (the segments after {@code /api/v1/web/}).
 *
 * @param pkg       the package; empty for {@code default}
 * @param extra     the segments after the action, decoded: the projection into the result and {@code __ow_path}
 */
record WebPath(String namespace, Optional<String> pkg, String action, Extension extension, List<String> extra) {
    static final String DEFAULT_PACKAGE = "default";

    WebPath {
        requireNonNull(namespace, "namespace");
        requireNonNull(pkg, "pkg");
        requireNonNull(action, "action");
        requireNonNull(extension, "extension");
        extra = List.copyOf(extra);
    }

    /**
     * Parses the segments; anything that cannot name a web action is 404, as a route that does not
     * exist (OpenWhisk does not tell an anonymous caller which part was wrong). {@code _} is not a
     * namespace here: there is no caller whose namespace it could stand for.
     */
    static WebPath parse(List<String> segments) {
        if (segments.size() < 3) {
            throw ApiException.notFound();
        }
        String ns = segments.get(0);
        if (!EntityName.isValidNamespace(ns)) {
            throw ApiException.notFound();
        }
        String pkgSegment = segments.get(1);
        Optional<String> pkg = pkgSegment.equals(DEFAULT_PACKAGE) ? Optional.empty() : Optional.of(validName(pkgSegment));
        Extension.Split split = Extension.split(segments.get(2));
        return new WebPath(ns, pkg, validName(split.name()), split.extension(), segments.subList(3, segments.size()));
    }

    private static String validName(String name) {
        try {
            return EntityName.require(name);
        } catch (ApiException e) {
            throw ApiException.notFound();
        }
    }

    /** {@code __ow_path}: what follows the action and its extension, {@code /a/b}, or empty. */
    String extraPath() {
        return extra.isEmpty() ? "" : "/" + String.join("/", extra);
    }

    /** The projection into the result: the extra path without empty segments (a trailing slash projects nothing). */
    List<String> projection() {
        return extra.stream().filter(s -> !s.isEmpty()).toList();
    }
}
