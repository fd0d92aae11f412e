package io.stratafs.cli;

import io.stratafs.config.Sizes;
import io.stratafs.config.VolumeRecord;
import io.stratafs.metrics.MetricsAddress;
import io.stratafs.store.ObjectStore;
import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code stratafs mount}: serves a volume at a mountpoint, in the background unless --foreground. */
@Command(name = "mount", mixinStandardHelpOptions = true, description = "Mount the volume in STORAGE at MOUNTPOINT.")
final class MountCommand implements Callable<Integer> {
    private static final long START_TIMEOUT_MS = 120_000;
    /** How long a stop waits for the serving thread to close the volume after the lazy unmount. */
    private static final long CLOSE_GRACE_SECONDS = 5;

    @Parameters(index = "0", paramLabel = "STORAGE")
    String storage;

    @picocli.CommandLine.Mixin
    StorageArgs storageArgs;

    @Parameters(index = "1", paramLabel = "MOUNTPOINT")
    Path mountpoint;

    @Option(names = "--cache-dir", description = "Local cache directory (LMDB); default /var/cache/stratafs/<volume> for root, else ~/.cache/stratafs/<volume>.")
    Path cacheDir;

    @Option(names = "--cache-size", defaultValue = "10G", description = "Bound of the local block cache (default ${DEFAULT-VALUE}).")
    String cacheSize;

    @Option(names = "--ram-cache", defaultValue = "64M", description = "Bound of the RAM block tier (default ${DEFAULT-VALUE}).")
    String ramCache;

    @Option(names = "--site", description = "Site name (default: the volume's).")
    String site;

    @picocli.CommandLine.Mixin
    SyncArgs syncArgs;

    @Option(names = "--upload-concurrency", defaultValue = "8", description = "Parallel uploads per target (default ${DEFAULT-VALUE}).")
    int uploadConcurrency;

    @Option(names = "-o", paramLabel = "FUSE_OPTS", description = "Extra FUSE mount options, comma-separated (e.g. ro,attr_timeout=1,spin_us=0).")
    List<String> fuseOptions = new ArrayList<>();

    @Option(names = "--foreground", description = "Stay in the foreground (for systemd and debugging); the log goes to stderr.")
    boolean foreground;

    @Option(names = "--no-allow-other", description = "When root mounts, serve only root (by default every user may use the "
            + "mount, and the kernel checks permissions).")
    boolean noAllowOther;

    @Option(names = "--log-file", paramLabel = "PATH", description = "Log file of the background daemon (default <cache-dir>/stratafs.log).")
    Path logFile;

    @Option(names = "--stop-timeout", defaultValue = "600", paramLabel = "SECONDS",
            description = "On SIGTERM or unmount, how long to wait for every block and journal record to reach the targets "
                    + "before exiting with status 1 and a log line saying what is pending (default ${DEFAULT-VALUE}).")
    long stopTimeoutSeconds;

    @Option(names = "--metrics", paramLabel = "HOST:PORT",
            description = "Serve Prometheus metrics over HTTP at http://HOST:PORT/metrics (e.g. 127.0.0.1:9567; default off). "
                    + "The endpoint has no authentication: use a loopback address unless the network is trusted.")
    String metrics;

    @Override
    public Integer call() throws Exception {
        long cacheBytes = Sizes.parse(cacheSize);
        MountedVolume.SyncSettings syncSettings = syncArgs.settings(storageArgs.options());
        long ramBytes = Sizes.parse(ramCache);
        if (uploadConcurrency < 1 || uploadConcurrency > 256) {
            throw new IllegalArgumentException("--upload-concurrency must be 1 to 256, got " + uploadConcurrency);
        }
        if (stopTimeoutSeconds < 0) {
            throw new IllegalArgumentException("--stop-timeout must be 0 or more seconds, got " + stopTimeoutSeconds);
        }
        if (foreground && logFile != null) {
            throw new IllegalArgumentException("--log-file is for the background daemon; with --foreground the log goes to stderr");
        }
        if (noAllowOther && MountAccess.asked(fuseOptions)) {
            throw new IllegalArgumentException("--no-allow-other contradicts -o allow_other (or allow_root); give one of them");
        }
        MetricsAddress metricsAddress = metrics == null ? null : MetricsAddress.parse(metrics);
        Path mp = mountpoint.toAbsolutePath().normalize();
        checkMountpoint(mp);
        SystemdNotify notify = foreground ? SystemdNotify.fromEnvironment(System.getenv(), ProcessHandle.current().pid()) : null;
        List<ObjectStore> targets = storageArgs.open(storage);
        boolean handedOver = false;
        try {
            Volume.Probe probe = Volume.probe(targets, storage);
            VolumeRecord record = probe.record();
            Path cache = usableCacheDir(cacheDir, record);
            if (!foreground) {
                return spawnDaemon(record, cache, mp);
            }
            String siteName = site != null ? site : record.site();
            MountedVolume volume = new MountedVolume(record, targets, probe.unreachable(), mp, cache, cacheBytes, ramBytes, siteName,
                    uploadConcurrency, storageArgs.downloadConcurrency, stopTimeoutSeconds * 1000);
            handedOver = true;
            volume.syncWith(syncSettings);
            Thread.setDefaultUncaughtExceptionHandler(volume::threadDied);
            SystemdService service = new SystemdService(notify, mp, volume::statusUnlessClosing);
            volume.answeringWhen(service::ready);
            java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> stopOnSignal(volume, service, mp, closed), "stratafs-shutdown"));
            try (service; volume) {
                service.start();
                volume.serve(fuseArgs(record), metricsAddress);
                service.stopping("unmounted; uploading everything before exit");
            } finally {
                service.stopped(volume.drainedCleanly());
                closed.countDown();
            }
            return volume.drainedCleanly() ? 0 : 1;
        } finally {
            if (!handedOver) {
                targets.forEach(ObjectStore::close);
            }
        }
    }

    /**
     * SIGTERM/SIGINT (systemd stop, Ctrl-C): drain while still mounted (new writes get EROFS, open
     * files are committed, everything uploads within --stop-timeout), then unmount lazily and exit 0
     * when nothing is pending, 1 otherwise. Files still held open keep a lazily unmounted FUSE
     * session alive, so the hook does not wait for the serving thread beyond a short grace period:
     * by then everything is committed to LMDB (and uploaded, if the status is 0).
     */
    private static void stopOnSignal(MountedVolume volume, SystemdService service, Path mp, java.util.concurrent.CountDownLatch closed) {
        if (closed.getCount() == 0) {
            return;
        }
        service.stopping("stopping: refusing new writes and uploading everything");
        boolean drained = volume.stop();
        service.stopped(drained);
        if (Mounts.isFuseMounted(mp)) {
            Mounts.fusermountU(mp, true);
        }
        try {
            closed.await(CLOSE_GRACE_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        System.out.flush();
        System.err.flush();
        // a signal's exit status would be 143; say what the drain achieved instead
        Runtime.getRuntime().halt(drained ? 0 : 1);
    }

    /**
     * The cache directory a daemon of {@code record} uses ({@code given}, else the default), refused
     * when it is a file or a live daemon already uses it.
     */
    static Path usableCacheDir(Path given, VolumeRecord record) throws IOException {
        Path cache = (given != null ? given : defaultCacheDir(record)).toAbsolutePath().normalize();
        if (Files.exists(cache) && !Files.isDirectory(cache)) {
            throw new IllegalArgumentException("cache directory " + cache + " is not a directory (choose another --cache-dir)");
        }
        DaemonPidFile.refuseIfLive(cache);
        return cache;
    }

    private static Path defaultCacheDir(VolumeRecord record) {
        String leaf = record.name() + "-" + record.uuid().substring(0, 8);
        if ("root".equals(System.getProperty("user.name"))) {
            return Paths.get("/var/cache/stratafs", leaf);
        }
        return Paths.get(System.getProperty("user.home"), ".cache", "stratafs", leaf);
    }

    /** Refuses a mountpoint that is missing, not a directory, or already a mount of anything; clears a dead StrataFS mount. */
    private static void checkMountpoint(Path mp) {
        clearStaleMount(mp);
        String type = Mounts.typeAt(mp);
        if (Mounts.STRATAFS_TYPE.equals(type)) {
            throw new IllegalStateException(mp + " is already mounted (a StrataFS volume; run: stratafs umount " + mp + ")");
        }
        if (type != null && !type.equals("autofs")) {
            // mounting over it would hide that filesystem from everyone without a word (autofs is
            // systemd's x-systemd.automount: the real mount goes on top of it by design)
            throw new IllegalStateException(mp + " is already a mount point (" + Mounts.describeAt(mp) + "); mount StrataFS on an empty directory that is not a mount point");
        }
        if (!Files.exists(mp)) {
            throw new IllegalArgumentException("mountpoint " + mp + " does not exist (create it first)");
        }
        if (!Files.isDirectory(mp)) {
            throw new IllegalArgumentException("mountpoint " + mp + " is not a directory");
        }
    }

    private static void clearStaleMount(Path mp) {
        if (Mounts.STRATAFS_TYPE.equals(Mounts.typeAt(mp)) && Mounts.isStale(mp)) {
            String err = Mounts.fusermountU(mp, true);
            if (err != null) {
                throw new IllegalStateException("a stale mount at " + mp + " could not be cleared: " + err);
            }
            System.err.println("stratafs: cleared a stale mount at " + mp + " left by a StrataFS process that died");
        }
    }

    private List<String> fuseArgs(VolumeRecord record) {
        String opts = "big_writes,max_write=131072,max_read=131072,max_readahead=1048576,default_permissions,"
                + "fsname=stratafs:" + record.name() + ",subtype=stratafs";
        for (String o : fuseOptions) {
            opts += "," + o;
        }
        if (MountAccess.allowOtherByDefault(noAllowOther, fuseOptions)) {
            opts += ",allow_other";
        }
        return List.of("-o", opts);
    }

    /** Starts this command again with --foreground in a new session and waits until the mount answers. */
    private int spawnDaemon(VolumeRecord record, Path cache, Path mp) throws IOException, InterruptedException {
        Files.createDirectories(cache);
        Path log = logFile != null ? logFile.toAbsolutePath() : cache.resolve("stratafs.log");
        if (log.getParent() != null && !Files.isDirectory(log.getParent())) {
            throw new IllegalArgumentException("--log-file " + log + ": directory " + log.getParent() + " does not exist");
        }
        List<String> cmd = new ArrayList<>();
        if (new File("/usr/bin/setsid").canExecute()) {
            cmd.add("/usr/bin/setsid");
        }
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.add("mount");
        cmd.add(storage);
        cmd.add(mp.toString());
        cmd.add("--cache-dir=" + cache);
        cmd.add("--cache-size=" + cacheSize);
        cmd.add("--ram-cache=" + ramCache);
        cmd.add("--upload-concurrency=" + uploadConcurrency);
        cmd.add("--stop-timeout=" + stopTimeoutSeconds);
        if (metrics != null) {
            cmd.add("--metrics=" + metrics);
        }
        cmd.addAll(storageArgs.asArgs());
        cmd.addAll(syncArgs.asArgs());
        if (site != null) {
            cmd.add("--site=" + site);
        }
        if (noAllowOther) {
            cmd.add("--no-allow-other");
        }
        for (String o : fuseOptions) {
            cmd.add("-o");
            cmd.add(o);
        }
        cmd.add("--foreground");
        long logStart = Files.exists(log) ? Files.size(log) : 0;
        ProcessBuilder daemon = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectErrorStream(true);
        // the service manager's socket is for the process it started, which is this one and returns now
        daemon.environment().keySet().removeAll(List.of("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"));
        Process child = daemon.start();
        Path socket = ControlChannel.socketFor(mp);
        long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
        while (System.currentTimeMillis() < deadline) {
            if (!child.isAlive()) {
                throw new IllegalStateException(failureFromLog(log, logStart, child.exitValue()));
            }
            String reply = ControlChannel.request(socket, "ping");
            if (reply != null && reply.startsWith("ok")) {
                System.out.println("mounted volume \"" + record.name() + "\" at " + mp + " (cache " + cache + ", log " + log + ")");
                return 0;
            }
            Thread.sleep(50);
        }
        child.destroy();
        throw new IllegalStateException("the mount did not answer within " + START_TIMEOUT_MS / 1000 + " s; see " + log);
    }

    private static String failureFromLog(Path log, long from, int exit) throws IOException {
        byte[] all = Files.readAllBytes(log);
        String text = new String(all, (int) Math.min(from, all.length), (int) (all.length - Math.min(from, all.length)), StandardCharsets.UTF_8);
        String last = null;
        List<String> libfuse = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("stratafs: ")) {
                last = line.substring("stratafs: ".length());
            } else if (line.startsWith("fuse: ")) {
                libfuse.add(line.substring("fuse: ".length()));
            } else if (last == null && line.contains("ERROR")) {
                last = line;
            }
        }
        if (!libfuse.isEmpty()) {
            // libfuse explains a failed mount on stderr, which the daemon's log holds; say it on our one line
            return "cannot mount: " + String.join("; ", libfuse);
        }
        return last != null ? last : "the mount process exited with status " + exit + "; see " + log;
    }
}
