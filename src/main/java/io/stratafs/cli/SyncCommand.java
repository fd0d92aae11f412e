package io.stratafs.cli;

import io.stratafs.config.Sizes;
import io.stratafs.config.VolumeRecord;
import io.stratafs.store.ObjectStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code stratafs sync}: a site without a mount (a gateway or a backup site). The same daemon a
 * mount runs, with no local changes of its own: it follows every peer, copies their blocks into this
 * site's storage and keeps the namespace in its cache directory, in the foreground until SIGTERM.
 */
@Command(name = "sync", mixinStandardHelpOptions = true, description = {
    "Run a site's sync daemon without mounting it (a gateway or backup site), in the foreground until SIGTERM.",
    "`stratafs status CACHE_DIR` shows its figures."})
final class SyncCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "STORAGE", description = "This site's storage (a directory or s3://bucket/prefix).")
    String storage;

    @picocli.CommandLine.Mixin
    StorageArgs storageArgs;

    @picocli.CommandLine.Mixin
    SyncArgs syncArgs;

    @Option(names = "--site", description = "Site name (default: the one the storage was formatted for).")
    String site;

    @Option(names = "--cache-dir", description = "Local cache directory (LMDB) of this site; the same default as mount's.")
    Path cacheDir;

    @Option(names = "--cache-size", defaultValue = "10G", description = "Bound of the local block cache (default ${DEFAULT-VALUE}).")
    String cacheSize;

    @Option(names = "--stop-timeout", defaultValue = "600", paramLabel = "SECONDS",
            description = "On SIGTERM, how long to wait for uploads before exiting with status 1 (default ${DEFAULT-VALUE}).")
    long stopTimeoutSeconds;

    @Override
    public Integer call() throws Exception {
        long cacheBytes = Sizes.parse(cacheSize);
        if (stopTimeoutSeconds < 0) {
            throw new IllegalArgumentException("--stop-timeout must be 0 or more seconds, got " + stopTimeoutSeconds);
        }
        MountedVolume.SyncSettings settings = syncArgs.settings(storageArgs.options());
        List<ObjectStore> targets = storageArgs.open(storage);
        boolean handedOver = false;
        try {
            Volume.Probe probe = Volume.probe(targets, storage);
            VolumeRecord record = probe.record();
            Path cache = MountCommand.usableCacheDir(cacheDir, record);
            String siteName = site != null ? site : record.site();
            Files.createDirectories(cache);
            MountedVolume volume = new MountedVolume(record, targets, probe.unreachable(), cache, cache, cacheBytes,
                    Math.min(cacheBytes, 64L << 20), siteName, 8, storageArgs.downloadConcurrency, stopTimeoutSeconds * 1000);
            handedOver = true;
            volume.syncWith(settings);
            Thread.setDefaultUncaughtExceptionHandler(volume::threadDied);
            java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                if (closed.getCount() > 0) {
                    boolean drained = volume.stop();
                    try {
                        closed.await(30, java.util.concurrent.TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    Runtime.getRuntime().halt(drained ? 0 : 1);
                }
            }, "stratafs-shutdown"));
            try (volume) {
                volume.serveHeadless(null);
            } finally {
                closed.countDown();
            }
            return volume.drainedCleanly() ? 0 : 1;
        } finally {
            if (!handedOver) {
                targets.forEach(ObjectStore::close);
            }
        }
    }
}
