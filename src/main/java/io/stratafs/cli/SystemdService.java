package io.stratafs.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a foreground daemon tells its service manager: READY=1 once the mount answers a stat through
 * the kernel, a STATUS= line with the dirty bytes and the upload backlog every few seconds (from the
 * same figures {@code stratafs status} prints), WATCHDOG=1 at half the watchdog interval only after
 * the mount answered again, and STOPPING=1 when a stop begins. Readiness is also what the control
 * socket's {@code ping} reports, so a background {@code mount} returns at the same moment.
 */
final class SystemdService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SystemdService.class);
    static final long STATUS_PERIOD_MS = 5_000;
    private static final long READY_POLL_MS = 20;
    private static final long READY_PROBE_TIMEOUT_MS = 1_000;

    private final SystemdNotify notify;
    private final Path mountpoint;
    private final MountProbe probe;
    private final Supplier<Map<String, Object>> figures;
    /** Two threads: a watchdog probe may wait up to a quarter interval, and status lines must not wait for it. */
    private final ScheduledExecutorService timer = Executors.newScheduledThreadPool(2, r -> {
        Thread t = new Thread(r, "stratafs-systemd");
        t.setDaemon(true);
        return t;
    });
    private final CountDownLatch ready = new CountDownLatch(1);
    private volatile String phase = "starting";
    private volatile boolean stopped;
    private volatile boolean pingsWithheld;

    /** {@code figures}: the status map of the mount (dirtyBytes, dirtyBlocks, pendingBlocks, ...), null once it closes. */
    SystemdService(SystemdNotify notify, Path mountpoint, Supplier<Map<String, Object>> figures) {
        this.notify = notify;
        this.mountpoint = mountpoint;
        this.probe = new MountProbe(mountpoint);
        this.figures = figures;
    }

    /** Waits, in the background, for the mount to answer; then READY=1, status lines and watchdog pings begin. */
    void start() {
        timer.execute(this::awaitReady);
    }

    /** Whether the mount has answered a stat of its root through the kernel. */
    boolean ready() {
        return ready.getCount() == 0;
    }

    private void awaitReady() {
        try {
            while (!stopped && !probe.answers(READY_PROBE_TIMEOUT_MS)) {
                // the kernel says nothing when a mount comes up; polling /proc/mounts and a stat is the only way to see it
                Thread.sleep(READY_POLL_MS);
            }
        } catch (InterruptedException e) {
            return;
        }
        if (stopped) {
            return;
        }
        phase = "serving";
        ready.countDown();
        LOG.info("the mount at {} answers{}", mountpoint, notify.enabled() ? "; told systemd it is ready" : "");
        notify.send("READY=1", "STATUS=" + statusLine());
        if (!notify.enabled()) {
            return;
        }
        timer.scheduleAtFixedRate(guarded(this::reportStatus), STATUS_PERIOD_MS, STATUS_PERIOD_MS, TimeUnit.MILLISECONDS);
        long watchdog = notify.watchdogMillis();
        if (watchdog > 0) {
            LOG.info("systemd watchdog: {} ms; pinging every {} ms after a stat of the mount root answers within {} ms",
                    watchdog, watchdog / 2, watchdog / 4);
            timer.scheduleAtFixedRate(guarded(() -> watchdog(watchdog / 4)), 0, Math.max(1, watchdog / 2), TimeUnit.MILLISECONDS);
        }
    }

    /** A periodic task that throws is never run again: log the failure and keep the schedule. */
    private static Runnable guarded(Runnable tick) {
        return () -> {
            try {
                tick.run();
            } catch (RuntimeException e) {
                LOG.error("a systemd notification tick failed: {}", e.toString(), e);
            }
        };
    }

    /**
     * One watchdog tick: the ping goes only after a stat of the mount root answered within a quarter
     * of the interval, so with pings every half interval a healthy mount never misses the deadline,
     * and a hung one (its FUSE threads stuck, its JVM otherwise alive) is restarted by systemd.
     */
    private void watchdog(long boundMs) {
        if (stopped) {
            return;
        }
        boolean answers;
        try {
            answers = probe.answers(boundMs);
        } catch (InterruptedException e) {
            return;
        }
        if (answers) {
            // the log line before the ping, so whoever sees the ping finds the line already written
            boolean resumed = pingsWithheld;
            if (resumed) {
                pingsWithheld = false;
                LOG.info("the mount at {} answers again; watchdog pings resume", mountpoint);
            }
            notify.send("WATCHDOG=1");
            if (resumed) {
                reportStatus();
            }
            return;
        }
        if (stopped) {
            return;
        }
        if (!pingsWithheld) {
            pingsWithheld = true;
            LOG.error("the mount at {} did not answer a stat of its root within {} ms; withholding watchdog pings, so systemd "
                    + "restarts the service unless it answers again within WatchdogSec", mountpoint, boundMs);
        }
        reportStatus();
    }

    private void reportStatus() {
        if (!stopped) {
            notify.send("STATUS=" + statusLine());
        }
    }

    /** A stop began (SIGTERM, or an unmount from outside): STOPPING=1, and the status lines say so from now on. */
    void stopping(String what) {
        if (stopped) {
            return;
        }
        phase = what;
        notify.send("STOPPING=1", "STATUS=" + statusLine());
    }

    /**
     * The drain is over: the last status line, then silence, so nothing reads the volume's figures
     * while it closes and no ping claims a mount that is going away.
     */
    void stopped(boolean drained) {
        phase = drained ? "stopped: every block and journal record is in every storage target"
                : "stopped with data not yet in the storage targets (see the log); it uploads on the next start";
        notify.send("STATUS=" + statusLine());
        stopped = true;
    }

    private String statusLine() {
        Map<String, Object> s;
        try {
            s = stopped ? null : figures.get();
        } catch (RuntimeException e) {
            s = null;
        }
        return statusLine(phase, s, probe.stuckMillis());
    }

    /**
     * The STATUS= text: the phase, then whether the mount answers, the dirty data and the upload
     * backlog (the largest per target, as {@code stratafs status} reports it), unhealthy targets and
     * problems. {@code s} may be null when the figures cannot be read (the volume is closing).
     */
    static String statusLine(String phase, Map<String, Object> s, long stuckMs) {
        StringBuilder b = new StringBuilder(phase);
        if (stuckMs > 0) {
            b.append("; NOT ANSWERING: a stat of the mount root has waited ").append(stuckMs / 1000).append(" s");
        }
        if (s == null) {
            return b.toString();
        }
        b.append("; dirty ").append(mib(number(s, "dirtyBytes"))).append(" in ").append(number(s, "dirtyBlocks")).append(" blocks")
                .append("; upload backlog ").append(number(s, "pendingBlocks")).append(" blocks, ")
                .append(number(s, "pendingJournalEntries")).append(" journal records");
        if (s.get("targets") instanceof List<?> targets) {
            long unhealthy = targets.stream().filter(t -> t instanceof Map<?, ?> m && Boolean.FALSE.equals(m.get("healthy"))).count();
            if (unhealthy > 0) {
                b.append("; ").append(unhealthy).append(" of ").append(targets.size()).append(" targets unhealthy");
            }
        }
        if (s.get("problems") instanceof List<?> problems && !problems.isEmpty()) {
            b.append("; ").append(problems.size()).append(" problem(s), see stratafs status");
        }
        return b.toString();
    }

    private static long number(Map<String, Object> s, String key) {
        return s.get(key) instanceof Number n ? n.longValue() : 0;
    }

    /** Mebibytes with one decimal: what an operator reads at a glance in systemctl status. */
    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
    }

    @Override
    public void close() {
        stopped = true;
        timer.shutdownNow();
        probe.close();
    }
}
