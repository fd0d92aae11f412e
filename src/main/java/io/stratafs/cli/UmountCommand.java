package io.stratafs.cli;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code stratafs umount}: flushes every dirty block and the journal to the targets, then unmounts. */
@Command(name = "umount", mixinStandardHelpOptions = true, description = "Flush all data to the storage targets, then unmount MOUNTPOINT.")
final class UmountCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MOUNTPOINT")
    Path mountpoint;

    @Option(names = "--no-flush", description = "Unmount without waiting for uploads (they resume on the next mount).")
    boolean noFlush;

    @Option(names = "--timeout", defaultValue = "600", description = "Seconds to wait for uploads before giving up (default ${DEFAULT-VALUE}); the volume stays mounted then.")
    long timeoutSeconds;

    @Override
    public Integer call() throws Exception {
        Path mp = mountpoint.toAbsolutePath().normalize();
        Path socket = ControlChannel.socketFor(mp);
        String ping = ControlChannel.request(socket, "ping");
        if (ping == null || !ping.startsWith("ok")) {
            String type = Mounts.typeAt(mp);
            if (type != null && !Mounts.STRATAFS_TYPE.equals(type)) {
                throw new IllegalStateException(mp + " is not a StrataFS mount (it is " + Mounts.describeAt(mp) + "); unmount it with umount or fusermount -u");
            }
            if (type != null) {
                String err = Mounts.fusermountU(mp, true);
                if (err != null) {
                    throw new IllegalStateException("cannot clear the stale mount at " + mp + ": " + err);
                }
                System.err.println("stratafs: cleared a stale mount at " + mp + " (no StrataFS process was serving it)");
                return 0;
            }
            throw new IllegalStateException("nothing is mounted at " + mp);
        }
        long pid = Long.parseLong(ping.substring(3).trim());
        if (noFlush) {
            // the daemon then commits to its cache and exits without waiting for the targets
            ControlChannel.request(socket, "no-flush");
        } else {
            String reply = ControlChannel.request(socket, "flush " + timeoutSeconds * 1000);
            if (reply == null || !reply.startsWith("ok")) {
                throw new IllegalStateException("not unmounted: " + (reply == null ? "the mount stopped answering" : reply.substring(5).trim())
                        + " (retry later, or use --no-flush to unmount now and upload on the next mount)");
            }
        }
        String err = Mounts.fusermountU(mp, false);
        if (err != null) {
            throw new IllegalStateException("cannot unmount " + mp + ": " + err);
        }
        Optional<ProcessHandle> daemon = ProcessHandle.of(pid);
        if (daemon.isPresent()) {
            try {
                daemon.get().onExit().get(300, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                throw new IllegalStateException("unmounted, but the StrataFS process " + pid + " is still finishing its uploads");
            }
        }
        return 0;
    }
}
