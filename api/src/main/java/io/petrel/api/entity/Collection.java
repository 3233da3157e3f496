package io.petrel.api.entity;

/** The kinds of named entities, which share one name space within a namespace (as in OpenWhisk). */
public enum Collection {
    ACTIONS("actions"), PACKAGES("packages"), TRIGGERS("triggers"), RULES("rules");

    private final String path;

    Collection(String path) {
        this.path = path;
    }

    /** The collection's name in URLs and in {@code count=true} answers. */
    public String path() {
        return path;
    }

    public static Collection ofPath(String path) {
        for (Collection c : values()) {
            if (c.path.equals(path)) {
                return c;
            }
        }
        throw new IllegalArgumentException("no collection " + path);
    }
}
