package io.stratafs.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code stratafs} command: format, mount, umount, status, bench, fsck, gc. */
@Command(name = "stratafs", mixinStandardHelpOptions = true, version = "stratafs 0.1.0",
        description = "A POSIX filesystem over tiered block storage: RAM, local SSD (LMDB), object stores.",
        subcommands = {FormatCommand.class, MountCommand.class, UmountCommand.class, StatusCommand.class,
                BenchCommand.class, FsckCommand.class, GcCommand.class, WarmupCommand.class, SitesCommand.class,
                SyncCommand.class, ReleaseDeletesCommand.class})
public final class Main implements Runnable {

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String... args) {
        Logging.configure(args.length > 0 && "mount".equals(args[0]) && java.util.Arrays.asList(args).contains("--foreground"));
        CommandLine cli = new CommandLine(new Main());
        cli.setParameterExceptionHandler((ex, a) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            String name = ex.getCommandLine().getCommandName();
            err.println("stratafs: " + ex.getMessage() + " (see: stratafs " + ("stratafs".equals(name) ? "" : name + " ") + "--help)");
            return 2;
        });
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("stratafs: " + oneLine(ex));
            return 1;
        });
        return cli.execute(args);
    }

    static String oneLine(Throwable t) {
        String m = t.getMessage();
        if (m == null || m.isBlank()) {
            m = t.getClass().getSimpleName();
        }
        return m.replace('\n', ' ');
    }
}
