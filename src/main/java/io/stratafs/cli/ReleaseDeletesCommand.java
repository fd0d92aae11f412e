package io.stratafs.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code stratafs release-deletes}: lets a held burst of deletions from one peer through, once. */
@Command(name = "release-deletes", mixinStandardHelpOptions = true, description = {
    "Apply a burst of deletions from PEER that the sync daemon of the site at MOUNTPOINT (or, for `stratafs sync`,",
    "its CACHE_DIR) is holding because it exceeded --max-delete; `stratafs status` shows held bursts."})
final class ReleaseDeletesCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MOUNTPOINT|CACHE_DIR")
    Path where;

    @Parameters(index = "1", paramLabel = "PEER")
    String peer;

    @Override
    public Integer call() {
        Path socket = ControlChannel.socketFor(where.toAbsolutePath().normalize());
        String reply = ControlChannel.request(socket, "release-deletes " + peer);
        if (reply == null) {
            throw new IllegalStateException("no StrataFS mount or sync daemon answers for " + where);
        }
        if (!reply.startsWith("ok")) {
            throw new IllegalStateException(reply.startsWith("error ") ? reply.substring(6) : reply);
        }
        System.out.println(reply.substring(2).trim());
        return 0;
    }
}
