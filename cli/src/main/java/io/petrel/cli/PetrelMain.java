package io.petrel.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code petrel} command line. */
@Command(name = "petrel", mixinStandardHelpOptions = true, version = "petrel 0.1.0",
        description = "Petrel: a highly available functions platform that speaks the OpenWhisk API.",
        subcommands = {UpCommand.class, DownCommand.class, StatusCommand.class, ZoneCommand.class, GatewayInstanceCommand.class,
                NodeCommand.class, GatewayCommand.class, BackupCommand.class, RestoreCommand.class, RegionCommand.class,
                NamespaceCommand.class, KeyCommand.class, LimitsCommand.class, PolicyCommand.class, LoadCommand.class,
                CommandLine.HelpCommand.class})
public final class PetrelMain {

    public static void main(String[] args) {
        int code = commandLine().execute(args);
        if (code != 0 || !Foreground.RUNNING.get()) {
            System.exit(code);
        }
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new PetrelMain());
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("petrel: " + e.getMessage());
            return 1;
        });
        return cl;
    }
}
