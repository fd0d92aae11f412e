package io.stratafs.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code stratafs status}: asks a running mount for its figures. */
@Command(name = "status", description = "Show cache, dirty data and upload backlog of a mounted volume.")
final class StatusCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MOUNTPOINT")
    Path mountpoint;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() {
        String reply = ControlChannel.request(ControlChannel.socketFor(mountpoint), "status");
        if (reply == null) {
            throw new IllegalStateException("no StrataFS mount is running at " + mountpoint.toAbsolutePath());
        }
        if (reply.startsWith("error")) {
            throw new IllegalStateException(reply.substring(5).trim());
        }
        if (json) {
            System.out.println(reply);
        } else {
            System.out.println(reply.replace(",\"", "\n  \"").replace("{", "{\n  ").replace("}", "\n}"));
        }
        return 0;
    }
}
