package io.petrel.api;

import static java.util.Objects.requireNonNull;

/**
 * A request that gets an error answer: the HTTP status and the message OpenWhisk clients expect in
 * {@code {"error": ..., "code": ...}}.
 */
public final class ApiException extends RuntimeException {
    public static final String NOT_FOUND = "The requested resource does not exist.";
    public static final String ALREADY_EXISTS = "resource already exists";
    public static final String CONCURRENT = "Concurrent modification to resource detected.";
    public static final String OTHER_COLLECTION = "Resource by this name exists but is not in this collection.";
    public static final String FORBIDDEN = "The supplied authentication is not authorized to access this resource.";
    public static final String NO_AUTH = "The resource requires authentication, which was not supplied with the request";
    public static final String BAD_AUTH = "The supplied authentication is invalid";
    public static final String BAD_NAME = "The name of the entity contains illegal characters.";
    public static final String BINDING = "Operation not permitted on package binding.";

    private final int status;

    public ApiException(int status, String message) {
        super(requireNonNull(message, "message"));
        this.status = status;
    }

    public int status() {
        return status;
    }

    public static ApiException badRequest(String message) {
        return new ApiException(400, message);
    }

    public static ApiException notFound() {
        return new ApiException(404, NOT_FOUND);
    }

    public static ApiException forbidden() {
        return new ApiException(403, FORBIDDEN);
    }

    public static ApiException conflict(String message) {
        return new ApiException(409, message);
    }

    /** OpenWhisk's wording for a field over its size limit. */
    public static ApiException tooLarge(String field, long size, long limit) {
        return new ApiException(413, field + " larger than allowed: " + size + " > " + limit + " bytes.");
    }
}
