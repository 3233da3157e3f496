package io.petrel.runtimes.java;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonWriter;

import java.io.BufferedReader;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.StringWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static java.util.Objects.requireNonNull;

/**
 * Petrel's Java launcher: the protocol is runtimes/README.md "The action loop". One JSON line per
 * message on stdin, answers on fd 3, the action's logs on stdout/stderr.
 *
 * <p>This class and everything else in its package are copied into the launcher folder as a jar of
 * their own, next to Gson, so they must use nothing but the JDK and Gson. Nothing here prints on
 * stdout or stderr but the markers: those streams belong to the action's logs.
 */
public final class JavaActionLauncher {
    static final String MARKER = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX";
    static final String NOT_A_DICTIONARY = "The action did not return a dictionary or array.";
    /** Where answers go instead of fd 3: only for the catalog's training run, which has no fd 3. */
    public static final String ANSWERS_PROPERTY = "io.petrel.runtimes.answers";
    static final String NEEDS_A_JAR = "A java action needs a jar: send the code as a base64 jar (binary).";

    private final OutputStream answers;
    private final PrintStream stdout;
    private final PrintStream stderr;
    private final ActivationProperties properties;
    private final ProcessEnvironment environment = ProcessEnvironment.open();
    private final TypeAdapter<JsonElement> writer;
    private final Set<String> runPropertyKeys = new HashSet<>();
    private final Object runLock = new Object();
    private volatile String state = "new";
    private volatile Method action;
    private volatile ClassLoader actionLoader;

    JavaActionLauncher(OutputStream answers, PrintStream stdout, PrintStream stderr, ActivationProperties properties) {
        this.answers = requireNonNull(answers, "answers");
        this.stdout = requireNonNull(stdout, "stdout");
        this.stderr = requireNonNull(stderr, "stderr");
        this.properties = requireNonNull(properties, "properties");
        Gson gson = new GsonBuilder().disableHtmlEscaping().serializeNulls().create();
        this.writer = gson.getAdapter(JsonElement.class);
    }

    public static void main(String[] args) {
        ActivationProperties properties = new ActivationProperties(System.getProperties());
        System.setProperties(properties);
        OutputStream answers = openAnswers();
        if (answers == null) {
            // No answer channel: there is nobody to tell, and stdout/stderr are the action's.
            Runtime.getRuntime().halt(2);
            return;
        }
        JavaActionLauncher launcher = new JavaActionLauncher(answers, System.out, System.err, properties);
        int status = launcher.serve(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)));
        System.out.flush();
        System.err.flush();
        // exit rather than return: threads the action left behind must not keep the container alive.
        System.exit(status);
    }

    /**
     * The answer channel: fd 3, which must be a pipe, FIFO, socket or character device. Never a regular
     * file: when a container starts the JVM without an fd 3, the JVM's own first file (the JDK's
     * lib/modules) gets that number, and opening /proc/self/fd/3 for writing once truncated the JDK.
     * Append mode, so that even a wrong fd 3 is never truncated.
     */
    private static OutputStream openAnswers() {
        String named = System.getProperty(ANSWERS_PROPERTY);
        Path channel = Path.of(named == null ? "/proc/self/fd/3" : named);
        try {
            BasicFileAttributes attributes = Files.readAttributes(channel, BasicFileAttributes.class);
            if (attributes.isRegularFile() || attributes.isDirectory()) {
                return null;
            }
            return new FileOutputStream(channel.toFile(), true);
        }
        catch (IOException e) {
            return null;
        }
    }

    int serve(BufferedReader input) {
        // Virtual threads: concurrent activations mostly wait on I/O, and there is no pool to size.
        try (ExecutorService concurrentRuns = Executors.newVirtualThreadPerTaskExecutor()) {
            if (!input.ready()) {
                // Nothing asked yet: a prewarmed container, idle until an action is given to it.
                warmUp();
            }
            String line;
            while ((line = input.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                JsonObject message;
                try {
                    message = JsonParser.parseString(line).getAsJsonObject();
                }
                catch (JsonParseException | IllegalStateException e) {
                    answer(errorObject("Malformed message: " + e.getMessage()));
                    continue;
                }
                if (message.has("init")) {
                    init(message.get("init"));
                }
                else if (message.get("run") instanceof JsonObject run) {
                    if (concurrent()) {
                        concurrentRuns.submit(() -> run(run, true));
                    }
                    else {
                        run(run, false);
                    }
                }
                else {
                    answer(errorObject("Malformed message: neither init nor run."));
                }
            }
            // Closing the executor waits for the runs already asked for.
        }
        catch (IOException e) {
            return 1;
        }
        return 0;
    }

    /**
     * Takes the first-time costs of an init and a run while the container waits for its action: opening
     * a jar through a class loader, the first reflective call (the JDK spins method handles for it), and
     * parsing and writing JSON. In a new JVM these cost more than the action's own init and run, and a
     * prewarmed container exists to answer its first activation fast. Touches none of the launcher's
     * state, prints nothing, and gives up silently: it only saves time.
     */
    private void warmUp() {
        try {
            URL launcherJar = JavaActionLauncher.class.getProtectionDomain().getCodeSource().getLocation();
            try (URLClassLoader loader = new URLClassLoader("warm-up", new URL[] {launcherJar}, JavaActionLauncher.class.getClassLoader());
                 var bytes = loader.getResourceAsStream(Warmup.class.getName().replace('.', '/') + ".class")) {
                if (bytes != null) {
                    bytes.readAllBytes();
                }
                Method main = Class.forName(Warmup.class.getName(), true, loader).getMethod("main", JsonObject.class);
                main.setAccessible(true);
                JsonObject params = JsonParser.parseString("{\"value\":{\"name\":\"warm\",\"n\":[1,2.5,true,null]}}").getAsJsonObject();
                Object result = main.invoke(null, params.getAsJsonObject("value"));
                json((JsonElement) result);
                quote("warm");
            }
        }
        catch (Exception | LinkageError e) {
            // A launcher that could not warm up still serves; its first activation is just slower.
        }
    }

    private static boolean concurrent() {
        return "true".equals(System.getenv("__OW_ALLOW_CONCURRENT")) || "true".equals(System.getProperty("__OW_ALLOW_CONCURRENT"));
    }

    private void init(JsonElement init) {
        if (!state.equals("new")) {
            answer(errorObject("Cannot initialize the action more than once."));
            return;
        }
        state = "initializing";
        String error;
        try {
            error = load(init instanceof JsonObject object ? object : new JsonObject());
        }
        catch (Throwable t) {
            error = "Initialization has failed due to: " + describe(t);
        }
        state = error == null ? "ready" : "failed";
        answer(error == null ? "{\"ok\":true}" : errorObject(error));
    }

    /** Loads the action; answers the developer error, or null when the action is ready. */
    private String load(JsonObject init) throws Exception {
        if (init.get("env") instanceof JsonObject env) {
            Map<String, String> values = new java.util.LinkedHashMap<>();
            for (Map.Entry<String, JsonElement> entry : env.entrySet()) {
                if (!entry.getValue().isJsonNull()) {
                    System.setProperty(entry.getKey(), propertyValue(entry.getValue()));
                    values.put(entry.getKey(), propertyValue(entry.getValue()));
                }
            }
            if (environment != null) {
                environment.putAll(values);
            }
        }
        String path = string(init, "path");
        if (path == null || path.isEmpty()) {
            String code = string(init, "code");
            return code == null || code.isEmpty() ? "Missing main/no code to execute." : NEEDS_A_JAR;
        }
        String main = string(init, "main");
        main = main == null ? "" : main.strip();
        int hash = main.indexOf('#');
        String className = hash < 0 ? main : main.substring(0, hash);
        String methodName = hash < 0 || hash == main.length() - 1 ? "main" : main.substring(hash + 1);
        if (className.isEmpty()) {
            return "A java action needs main: the name of its class (com.example.Hello or com.example.Hello#method).";
        }
        Path jar = Path.of(path).toAbsolutePath();
        if (!Files.exists(jar)) {
            return "The action's jar is missing: " + jar;
        }
        // Parent: the launcher's loader, so the action's JsonObject is the launcher's JsonObject.
        URLClassLoader loader = new URLClassLoader("action", new URL[] {jar.toUri().toURL()}, JavaActionLauncher.class.getClassLoader());
        ClassLoader previous = Thread.currentThread().getContextClassLoader();
        Thread.currentThread().setContextClassLoader(loader);
        try {
            Class<?> type;
            try {
                type = Class.forName(className, true, loader);
            }
            catch (ClassNotFoundException e) {
                return "The action has no class named \"" + className + "\".";
            }
            Method method;
            try {
                method = type.getMethod(methodName, JsonObject.class);
            }
            catch (NoSuchMethodException e) {
                method = null;
            }
            if (method == null || !Modifier.isStatic(method.getModifiers()) || !JsonElement.class.isAssignableFrom(method.getReturnType())) {
                return "The action's class " + className + " has no method public static JsonObject " + methodName + "(JsonObject).";
            }
            try {
                // A public method of a class that is not public is still the action's to offer.
                method.setAccessible(true);
            }
            catch (RuntimeException ignored) {
                // invoke reports it, should it matter
            }
            action = method;
            actionLoader = loader;
            return null;
        }
        catch (ExceptionInInitializerError e) {
            return "Initialization has failed due to: " + describe(e.getCause() == null ? e : e.getCause());
        }
        finally {
            Thread.currentThread().setContextClassLoader(previous);
        }
    }

    private void run(JsonObject run, boolean concurrent) {
        JsonElement idElement = run.get("activation_id");
        String id = idElement == null || idElement.isJsonNull() ? null
                : idElement.isJsonPrimitive() ? idElement.getAsString() : idElement.toString();
        String outcome;
        if (action == null) {
            outcome = ",\"error\":" + quote(state.equals("failed") ? "The action failed to initialize." : "The action was not initialized.");
        }
        else {
            Map<String, String> values = new HashMap<>();
            for (Map.Entry<String, JsonElement> entry : run.entrySet()) {
                if (!entry.getKey().equals("value") && !entry.getValue().isJsonNull()) {
                    values.put("__OW_" + entry.getKey().toUpperCase(java.util.Locale.ROOT), propertyValue(entry.getValue()));
                }
            }
            synchronized (runLock) {
                if (!concurrent) {
                    runPropertyKeys.forEach(System::clearProperty);
                    if (environment != null) {
                        environment.remove(runPropertyKeys);
                    }
                    runPropertyKeys.clear();
                    runPropertyKeys.addAll(values.keySet());
                }
                // Also globally, for threads the action's libraries started before this activation.
                values.forEach(System::setProperty);
                if (environment != null) {
                    // Process-wide, as OpenWhisk's Java runtime has it: with concurrent activations the last one's values.
                    environment.putAll(values);
                }
            }
            properties.enter(values);
            ClassLoader previous = Thread.currentThread().getContextClassLoader();
            Thread.currentThread().setContextClassLoader(actionLoader);
            try {
                outcome = call(run.get("value"));
            }
            finally {
                Thread.currentThread().setContextClassLoader(previous);
                properties.leave();
            }
        }
        answer("{\"id\":" + quote(id) + outcome + "}");
        if (!concurrent) {
            markers();
        }
    }

    private String call(JsonElement value) {
        if (value == null || value.isJsonNull()) {
            value = new JsonObject();
        }
        if (!(value instanceof JsonObject)) {
            return ",\"error\":" + quote("An error has occurred: the action takes an object, but the value is " + value + ".");
        }
        Object result;
        try {
            result = action.invoke(null, value);
        }
        catch (InvocationTargetException e) {
            return ",\"error\":" + quote("An error has occurred: " + describe(e.getCause() == null ? e : e.getCause()));
        }
        catch (Throwable t) {
            return ",\"error\":" + quote("An error has occurred: " + describe(t));
        }
        if (!(result instanceof JsonObject) && !(result instanceof JsonArray)) {
            return ",\"error\":" + quote(NOT_A_DICTIONARY);
        }
        try {
            return ",\"result\":" + json((JsonElement) result);
        }
        catch (RuntimeException e) {
            // NaN or Infinity: not JSON.
            return ",\"error\":" + quote("An error has occurred: " + describe(e));
        }
    }

    private String json(JsonElement element) {
        StringWriter text = new StringWriter();
        try {
            JsonWriter out = new JsonWriter(text);
            out.setSerializeNulls(true);
            out.setHtmlSafe(false);
            writer.write(out, element);
            out.flush();
        }
        catch (IOException e) {
            throw new IllegalStateException(e); // a StringWriter does not fail
        }
        return text.toString();
    }

    private String quote(String text) {
        return text == null ? "null" : json(new com.google.gson.JsonPrimitive(text));
    }

    private String errorObject(String message) {
        return "{\"error\":" + quote(message) + "}";
    }

    private void answer(String line) {
        byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
        synchronized (answers) {
            try {
                answers.write(bytes);
                answers.flush();
            }
            catch (IOException e) {
                // The container closed the answer channel: nobody is listening any more. halt, not
                // exit: the action's shutdown hooks must not keep a dead container around.
                Runtime.getRuntime().halt(1);
            }
        }
    }

    private void markers() {
        System.out.flush();
        System.err.flush();
        stdout.flush();
        stdout.print(MARKER + "\n");
        stdout.flush();
        stderr.flush();
        stderr.print(MARKER + "\n");
        stderr.flush();
    }

    private static String string(JsonObject object, String member) {
        JsonElement element = object.get(member);
        return element == null || element.isJsonNull() ? null : element.isJsonPrimitive() ? element.getAsString() : element.toString();
    }

    private static String propertyValue(JsonElement value) {
        return value.isJsonPrimitive() && value.getAsJsonPrimitive().isString() ? value.getAsString() : value.toString();
    }

    private static String describe(Throwable t) {
        try {
            return t.toString();
        }
        catch (RuntimeException e) {
            return t.getClass().getName();
        }
    }
}
