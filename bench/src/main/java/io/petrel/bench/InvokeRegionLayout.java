package io.petrel.bench;

import io.petrel.cli.local.RegionLayout;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes the {@code region.json} of a new local region with extra zone tuning, before
 * {@code ./petrel up --data DIR} starts it: {@code up} takes a folder that already has one as the
 * region to start, and every zone's {@code node.properties} gets the tuning. It is the layout
 * {@code up} itself makes for a new folder (three zones, two gateways, the default ports), plus the
 * tuning; {@code up} has no option for tuning.
 *
 * <pre>InvokeRegionLayout DIR IP_PREFIX [key=value ...]</pre>
 * A {@code key=} with nothing after the '=' sets the key to the empty string.
 */
public final class InvokeRegionLayout {
    private InvokeRegionLayout() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: InvokeRegionLayout DIR IP_PREFIX [key=value ...]");
            System.exit(2);
        }
        Path dir = Path.of(args[0]).toAbsolutePath();
        if (RegionLayout.exists(dir)) {
            throw new IllegalStateException(dir + " holds a region already");
        }
        Map<String, String> tuning = new LinkedHashMap<>();
        for (int i = 2; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("not key=value: " + args[i]);
            }
            tuning.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        RegionLayout layout = RegionLayout.of("local", dir, 3, args[1], RegionLayout.RAFT_PORT, RegionLayout.HTTP_PORT,
                RegionLayout.API_PORT, tuning);
        layout.save();
        System.out.println("region.json written in " + dir + " with tuning " + tuning);
    }
}
