package io.stratafs.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Proves that a mount answers: a {@code statvfs(2)} of its root, which the kernel always passes to
 * the daemon (it caches no filesystem statistics), returns within a bound, and a stat of the root
 * reports another device than the directory below, so the answer came from the mount and not from
 * the empty mountpoint. (The root's attributes are cached like any inode's, so a stat alone may be
 * answered by the kernel.) A call into a hung FUSE mount cannot be interrupted, so the probe runs
 * on a thread of its own, and while one is stuck no second one starts: a hung mount costs one
 * thread, not one per probe.
 */
final class MountProbe implements AutoCloseable {
    private final Path mountpoint;
    private final ExecutorService prober = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "stratafs-mount-probe");
        t.setDaemon(true);
        return t;
    });
    private Future<Boolean> inFlight;
    private long inFlightSinceNanos;

    MountProbe(Path mountpoint) {
        this.mountpoint = mountpoint.toAbsolutePath().normalize();
    }

    /** Whether a stat of the mount root reached the mount and returned within {@code timeoutMs}. */
    boolean answers(long timeoutMs) throws InterruptedException {
        Future<Boolean> probe;
        synchronized (this) {
            if (inFlight == null || inFlight.isDone()) {
                inFlight = prober.submit(this::statRoot);
                inFlightSinceNanos = System.nanoTime();
            }
            probe = inFlight;
        }
        try {
            return probe.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            return false;
        }
    }

    /** How long the current stat has been waiting for the mount, in milliseconds; 0 when none waits. */
    synchronized long stuckMillis() {
        return inFlight == null || inFlight.isDone() ? 0 : TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - inFlightSinceNanos);
    }

    private boolean statRoot() {
        if (!Mounts.isFuseMounted(mountpoint)) {
            return false;
        }
        try {
            Object dev = Files.getAttribute(mountpoint, "unix:dev");
            if (dev.equals(Files.getAttribute(mountpoint.getParent(), "unix:dev"))) {
                return false;
            }
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
        return Mounts.statvfs(mountpoint) == 0;
    }

    @Override
    public void close() {
        prober.shutdownNow();
    }
}
