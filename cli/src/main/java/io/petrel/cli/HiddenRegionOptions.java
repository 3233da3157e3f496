package io.petrel.cli;

import io.petrel.cli.local.RegionLayout;
import picocli.CommandLine.Option;

/** Addresses of a new local region; tests and benchmarks move them so that they never meet a developer's region. */
final class HiddenRegionOptions {
    @Option(names = "--ip-prefix", hidden = true, defaultValue = "127.0")
    String ipPrefix;

    @Option(names = "--raft-port", hidden = true, defaultValue = "" + RegionLayout.RAFT_PORT)
    int raftPort;

    @Option(names = "--http-port", hidden = true, defaultValue = "" + RegionLayout.HTTP_PORT)
    int httpPort;

    @Option(names = "--api-port", hidden = true, defaultValue = "" + RegionLayout.API_PORT)
    int apiPort;
}
