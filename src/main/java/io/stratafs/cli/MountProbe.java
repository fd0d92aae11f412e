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
 * Proves that a mount answers: a stat of its root through the kernel (the adapter answers the
 * root's attributes with a timeout of 0, so the kernel asks the daemon every time) that returns within a bound and reports another device than the
 * directory below, so the answer came from the mount and not from the empty mountpoint. A stat of
 * a hung FUSE mount cannot be interrupted, so it runs on a thread of its own, and while one is
 * stuck no second one starts: a hung mount costs one thread, not one per probe.
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
            return !dev.equals(Files.getAttribute(mountpoint.getParent(), "unix:dev"));
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    @Override
    public void close() {
        prober.shutdownNow();
    }
}
