package io.petrel.runtimes.java;

import com.google.gson.JsonObject;

/**
 * The action the catalog runs once, when it builds the launcher's class data archive, so that the
 * archive holds the classes a real init and run load (class loader, reflection, JSON writing); an
 * idle launcher calls it too, to take those first-time costs before its action arrives.
 */
public final class Warmup {
    private Warmup() {}

    public static JsonObject main(JsonObject params) {
        JsonObject answer = new JsonObject();
        answer.add("echo", params);
        answer.addProperty("text", "warm ✓");
        return answer;
    }
}
