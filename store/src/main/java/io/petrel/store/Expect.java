package io.petrel.store;

/**
 * The condition a write makes on the current state of its key.
 *
 * <ul>
 *   <li>{@link #any()}: no condition (overwrite);
 *   <li>{@link #absent()}: the key must not exist (create only);
 *   <li>{@link #revision(long)}: the key must exist with exactly this modification revision (update
 *       only what was read).
 * </ul>
 */
public record Expect(Kind kind, long revision) {

    public enum Kind { ANY, ABSENT, REVISION }

    private static final Expect ANY = new Expect(Kind.ANY, 0);
    private static final Expect ABSENT = new Expect(Kind.ABSENT, 0);

    public Expect {
        if (kind == null) {
            throw new InvalidRequestException("expect: kind is required");
        }
        if (kind == Kind.REVISION && revision <= 0) {
            throw new InvalidRequestException("expect: a revision must be positive, got " + revision);
        }
    }

    public static Expect any() {
        return ANY;
    }

    public static Expect absent() {
        return ABSENT;
    }

    public static Expect revision(long revision) {
        return new Expect(Kind.REVISION, revision);
    }

    /** Whether a key whose current modification revision is {@code current} (0: absent) satisfies this. */
    public boolean holdsFor(long current) {
        return switch (kind) {
            case ANY -> true;
            case ABSENT -> current == 0;
            case REVISION -> current == revision;
        };
    }

    @Override
    public String toString() {
        return switch (kind) {
            case ANY -> "any";
            case ABSENT -> "absent";
            case REVISION -> "revision " + revision;
        };
    }
}
