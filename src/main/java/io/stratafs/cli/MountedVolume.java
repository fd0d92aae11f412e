package io.stratafs.cli;

import io.stratafs.cache.BlockCache;
import io.stratafs.config.VolumeRecord;
import io.stratafs.fuse.StrataLowLevel;
import io.stratafs.journal.LmdbReplicaStore;
import io.stratafs.journal.PeerCursors;
import io.stratafs.meta.Kv;
import io.stratafs.meta.LmdbKv;
import io.stratafs.meta.Table;
import io.stratafs.metrics.MetricsAddress;
import io.stratafs.metrics.MetricsEndpoint;
import io.stratafs.metrics.VolumeGauges;
import io.stratafs.metrics.VolumeMetrics;
import io.stratafs.store.LocalDirStore;
import io.stratafs.store.MeasuredStore;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import io.stratafs.store.StoreOptions;
import io.stratafs.mount.SiteBridge;
import io.stratafs.sync.BandwidthLimit;
import io.stratafs.sync.BlockCopier;
import io.stratafs.sync.OpenPeerStores;
import io.stratafs.sync.Replica;
import io.stratafs.sync.SiteDaemon;
import io.stratafs.sync.SiteRegistry;
import io.stratafs.vfs.Caller;
import io.stratafs.vfs.Clock;
import io.stratafs.vfs.FsStats;
import io.stratafs.vfs.Vfs;
import io.stratafs.writeback.Recovery;
import io.stratafs.writeback.SyncState;
import io.stratafs.writeback.TargetIds;
import io.stratafs.writeback.WriteBack;
import java.io.IOException;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A volume being served at a mountpoint: wires LMDB, the block cache, the VFS, write-back, FUSE and
 * the control socket together, and takes them down in the reverse order with a final flush.
 */
final class MountedVolume implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MountedVolume.class);
    private static final byte[] VOLUME_UUID = "volume.uuid".getBytes(StandardCharsets.UTF_8);

    private final VolumeRecord record;
    private final List<ObjectStore> targets;
    private final Path mountpoint;
    private final Path cacheDir;
    private final String site;
    private final Kv kv;
    private final BlockCache cache;
    private final Vfs vfs;
    private final WriteBack writeBack;
    /** The site's replica in this cache's LMDB, and the bridge keeping the namespace in step with it. */
    private final Replica replica;
    private final SiteBridge bridge;
    private volatile SyncSettings syncSettings;
    /** This mount filled an empty cache from storage: changes wait until the daemon caught up with the site's own log. */
    private boolean restored;
    private volatile SiteDaemon daemon;
    private OpenPeerStores peerStores;
    private java.util.concurrent.ExecutorService copyPool;
    /** The counters behind status and the Prometheus endpoint; every target request is measured into them. */
    private final VolumeMetrics metrics = new VolumeMetrics();
    private MetricsEndpoint metricsEndpoint;
    private final PathRequests paths;
    private final java.util.concurrent.ScheduledExecutorService housekeeping =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "stratafs-housekeeping");
                t.setDaemon(true);
                return t;
            });
    /** How long the final drain waits for uploads; {@code umount --no-flush} lowers it to 0. */
    private volatile long stopTimeoutMs;
    /** Threads that died (any Throwable), one sentence each, for status, flushes and the exit status. */
    private final List<String> deaths = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile StrataLowLevel fuse;
    /** Serving without a mount ({@code stratafs sync}); {@link #headlessStopped} ends it. */
    private volatile boolean headless;
    private final java.util.concurrent.CountDownLatch headlessStopped = new java.util.concurrent.CountDownLatch(1);
    private ServerSocketChannel control;
    /** Whether the stop drained everything; null until the final drain (stop or close) ran. */
    private Boolean drained;
    /** Whether the mount answers; {@code ping} says "ok" only then. */
    private volatile java.util.function.BooleanSupplier answering = this::isMounted;
    /** Set once the final drain is over, under the lock: the figures are not read while the volume closes. */
    private final Object statusLock = new Object();
    private boolean statusClosed;

    /** {@code unreachable}: per target, why it did not answer at mount (null if it did). */
    MountedVolume(VolumeRecord record, List<ObjectStore> targets, List<String> unreachable, Path mountpoint, Path cacheDir,
                  long cacheSize, long ramCache, String site, int uploadConcurrency, int downloadConcurrency,
                  long stopTimeoutMs) throws StoreException {
        this.record = record;
        this.stopTimeoutMs = stopTimeoutMs;
        this.targets = targets.stream().<ObjectStore>map(t -> new MeasuredStore(t, metrics)).toList();
        this.mountpoint = mountpoint;
        this.cacheDir = cacheDir;
        this.site = site;
        // groups of at most a 128th of the cache, counted in LMDB pages: the file carries about three
        // groups of churn (freed pages are reused two commits later), which stays small beside it (meta/LmdbKv)
        this.kv = new LmdbKv(cacheDir, cacheSize + cacheSize / 4 + (2L << 30), cacheSize / 128);
        try {
            adoptCacheDir(unreachable);
            this.cache = new BlockCache(kv, this.targets, TargetIds.assign(kv, this.targets), cacheSize, ramCache, downloadConcurrency,
                    metrics);
            this.vfs = new Vfs(kv, cache, record.blockSize(), Clock.SYSTEM, this::fsStats, metrics);
            this.writeBack = new WriteBack(kv, cache, site, uploadConcurrency, record, unreachable, cacheDir);
            SyncState sync = new SyncState(kv, cache, writeBack);
            vfs.answerSynced((chain, uncommitted) -> sync.file(chain, uncommitted).describe());
            this.paths = new PathRequests(kv, cache, vfs, sync);
            LmdbReplicaStore replicaStore = new LmdbReplicaStore(kv, new PeerCursors());
            this.replica = new Replica(site, System::currentTimeMillis, replicaStore);
            this.bridge = new SiteBridge(kv, replicaStore, replica, vfs, cache);
        } catch (StoreException | RuntimeException e) {
            kv.close();
            throw e;
        }
        vfs.initRoot(new Caller((int) new com.sun.security.auth.module.UnixSystem().getUid(),
                (int) new com.sun.security.auth.module.UnixSystem().getGid()));
        int orphans = vfs.removeOrphans();
        if (orphans > 0) {
            LOG.info("removed {} file(s) that were deleted while open when the last mount ended", orphans);
        }
        vfs.logTo(bridge);
    }

    /** How the sync daemon reaches peers: options for their storage, the block copy limit, the delete-burst share. */
    record SyncSettings(StoreOptions peerReach, long bandwidthBytesPerSecond, int maxDeletePercent) {
    }

    /** Runs the site's sync daemon while serving (every mount and {@code stratafs sync} do; unit tests may not). */
    void syncWith(SyncSettings settings) {
        this.syncSettings = settings;
    }

    /**
     * Starts the daemon: it catches up with this site's own published log, follows every peer the
     * registry names, and applies their operations through the bridge; then what a crash left
     * unlogged is logged. Storage that does not answer now does not stop the mount: the daemon
     * starts later.
     */
    private void startSync() {
        SyncSettings settings = syncSettings;
        if (settings == null) {
            return;
        }
        if (restored) {
            bridge.refuseChanges("site " + site + "'s cache was restored from storage and is catching up with the site's "
                    + "published log; changes are accepted once it has (see stratafs status)");
        }
        peerStores = new OpenPeerStores(settings.peerReach());
        copyPool = java.util.concurrent.Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "stratafs-sync-copy-worker");
            t.setDaemon(true);
            return t;
        });
        BlockCopier copier = BlockCopier.builder().targets(targets).executor(copyPool)
                .bandwidth(settings.bandwidthBytesPerSecond() > 0 ? BandwidthLimit.of(settings.bandwidthBytesPerSecond()) : BandwidthLimit.NONE)
                .build();
        SiteRegistry registry = new SiteRegistry(record.uuid(), site, targets, peerStores);
        SiteDaemon d = new SiteDaemon(replica, targets, registry, peerStores, copier, System::currentTimeMillis,
                daemonOptions(settings), new SiteDaemon.Hooks(bridge::apply, bridge::publishable));
        bridge.onLocalChange(d::localChange);
        startDaemon(d);
    }

    private static SiteDaemon.Options daemonOptions(SyncSettings settings) {
        SiteDaemon.Options d = SiteDaemon.Options.DEFAULTS;
        return new SiteDaemon.Options(d.publishIntervalMillis(), d.registryRefreshMillis(), d.maxSegmentsPerRead(), d.retryMillis(),
                settings.maxDeletePercent() / 100.0, d.minDeletes());
    }

    private void startDaemon(SiteDaemon d) {
        try {
            d.start();
            daemon = d;
            bridge.refuseChanges(null);
            logEarlierChanges();
            LOG.info("sync daemon of site {} started", site);
        } catch (StoreException | RuntimeException e) {
            LOG.warn("the sync daemon cannot start yet ({}); trying again in 10 s", e.getMessage());
            housekeeping.schedule(() -> startDaemon(d), 10, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    /** Logs a namespace older than sites, and content a crash left unlogged: after the own-log catch-up, never before. */
    private void logEarlierChanges() {
        try {
            int imported = bridge.importNamespace();
            if (imported > 0) {
                LOG.info("logged the {} name(s) this volume held before it had sites as this site's operations", imported);
            }
            int settled = bridge.settleAll();
            if (settled > 0) {
                LOG.info("logged the new content of {} file(s) written before the last mount ended", settled);
            }
        } catch (io.stratafs.vfs.FsException e) {
            LOG.error("logging this site's earlier changes failed: {}", e.getMessage());
        }
    }

    /** The daemon's final publish pass, after the drain uploaded the blocks its Writes name. */
    private void stopSync() {
        SiteDaemon d = daemon;
        daemon = null;
        if (d != null) {
            d.close();
        }
        bridge.close();
        if (copyPool != null) {
            copyPool.shutdownNow();
        }
        if (peerStores != null) {
            peerStores.close();
        }
    }

    /** Lets a held burst of deletions from {@code peer} through; the reply says what happened. */
    private String releaseDeletes(String peer) {
        SiteDaemon d = daemon;
        if (d == null) {
            return "error the sync daemon is not running";
        }
        try {
            d.releaseHold(peer);
            return "ok deletions held from site " + peer + " are applied at its next poll";
        } catch (IllegalArgumentException e) {
            return "error " + e.getMessage();
        }
    }

    /**
     * Ties the cache dir to this volume; an empty one is filled from the answering target with the
     * most advanced journal (the others are caught up from it by write-back).
     */
    private void adoptCacheDir(List<String> unreachable) throws StoreException {
        byte[] uuid = kv.read(txn -> txn.get(Table.LOCAL, VOLUME_UUID));
        if (uuid != null) {
            String owner = new String(uuid, StandardCharsets.UTF_8);
            if (!owner.equals(record.uuid())) {
                throw new StoreException("cache directory " + cacheDir + " belongs to another volume (" + owner
                        + "); use another --cache-dir");
            }
            return;
        }
        ObjectStore source = null;
        long best = -1;
        for (int i = 0; i < targets.size(); i++) {
            if (unreachable.get(i) == null) {
                long last = Recovery.lastSeq(targets.get(i), site);
                if (last > best) {
                    best = last;
                    source = targets.get(i);
                }
            }
        }
        Recovery.restore(kv, source, site);
        restored = true;
        kv.writeVoid(txn -> txn.put(Table.LOCAL, VOLUME_UUID, record.uuid().getBytes(StandardCharsets.UTF_8)));
    }

    private FsStats fsStats() {
        long total = 1L << 50;
        long free = total;
        if (((MeasuredStore) targets.get(0)).inner() instanceof LocalDirStore local) {
            try {
                FileStore fs = Files.getFileStore(local.root());
                total = fs.getTotalSpace();
                free = fs.getUsableSpace();
            } catch (IOException e) {
                LOG.debug("statfs of {} failed: {}", local.root(), e.toString());
            }
        }
        return new FsStats(total, free, 0);
    }

    /**
     * Mounts and serves until unmounted; returns after the final flush. With a {@code metricsAddress}
     * the Prometheus endpoint starts before the mount, so an address in use fails the mount.
     */
    void serve(List<String> fuseOptions, MetricsAddress metricsAddress) throws IOException, InterruptedException {
        housekeeping.scheduleWithFixedDelay(this::flushAtimes, 5, 5, java.util.concurrent.TimeUnit.SECONDS);
        fuse = StrataLowLevel.over(vfs, metrics);
        bridge.tellKernel(fuse);
        startServices(metricsAddress);
        LOG.info("mounting volume {} ({}) at {}; cache {} ; targets {}", record.name(), record.uuid(), mountpoint, cacheDir,
                io.stratafs.store.StoreFactory.describeAll(targets));
        fuse.serve(mountpoint, fuseOptions);
        LOG.info("unmounted {}; flushing", mountpoint);
    }

    /**
     * Serves the site without a mount ({@code stratafs sync}): write-back, the sync daemon and the
     * control socket (keyed by the cache directory) until {@link #stop} is called.
     */
    void serveHeadless(MetricsAddress metricsAddress) throws IOException, InterruptedException {
        headless = true;
        startServices(metricsAddress);
        LOG.info("site {} of volume {} ({}) syncing without a mount; cache {} ; targets {}", site, record.name(), record.uuid(),
                cacheDir, io.stratafs.store.StoreFactory.describeAll(targets));
        headlessStopped.await();
    }

    /**
     * What a mount and a site without one both run: write-back, the sync daemon, the metrics endpoint
     * (an address in use fails here, before anything is mounted), the control socket (keyed by the
     * mountpoint, or the cache directory) and the pid file.
     */
    private void startServices(MetricsAddress metricsAddress) throws IOException {
        writeBack.start();
        startSync();
        if (metricsAddress != null) {
            metricsEndpoint = MetricsEndpoint.start(metricsAddress, metrics, this::gauges);
            LOG.info("serving Prometheus metrics at http://{}/metrics (no authentication)", metricsAddress);
        }
        control = ControlChannel.serve(ControlChannel.socketFor(mountpoint), this::handle);
        Files.writeString(cacheDir.resolve(DaemonPidFile.NAME), ProcessHandle.current().pid() + "\n");
    }

    private void flushAtimes() {
        try {
            vfs.flushAtimes();
        } catch (RuntimeException e) {
            LOG.warn("writing access times failed: {}", e.getMessage());
        } catch (Error e) {
            threadDied(Thread.currentThread(), e);
            throw e;
        }
    }

    /** Records a thread that died, for status, the log and every later flush; any thread may call it. */
    void threadDied(Thread thread, Throwable cause) {
        String what = "thread " + thread.getName() + " died of " + cause;
        deaths.add(what);
        LOG.error("{}; the mount keeps serving, but unmount and mount again to restore it", what, cause);
    }

    /** Sentences saying what is broken: dead threads here and in write-back. */
    List<String> problems() {
        List<String> out = new ArrayList<>(deaths);
        out.addAll(writeBack.problems());
        return out;
    }

    private boolean isMounted() {
        return Mounts.isFuseMounted(mountpoint);
    }

    /** Replaces the test for {@code ping}, e.g. with a stat of the mount root through the kernel. */
    void answeringWhen(java.util.function.BooleanSupplier test) {
        answering = test;
    }

    String handle(String request) {
        switch (request) {
            case "ping":
                if (headless) {
                    return daemon != null ? "ok " + ProcessHandle.current().pid() : "starting";
                }
                StrataLowLevel f = fuse;
                return f != null && f.isMounted() && answering.getAsBoolean() ? "ok " + ProcessHandle.current().pid() : "starting";
            case "status":
                return Json.write(status(true));
            case "flush":
                return flush(Long.MAX_VALUE / 4);
            case "no-flush":
                stopTimeoutMs = 0;
                return "ok";
            default:
                if (request.startsWith("flush ")) {
                    return flush(Long.parseLong(request.substring(6).trim()));
                }
                if (request.startsWith("release-deletes ")) {
                    return releaseDeletes(request.substring(16).trim());
                }
                String reply = paths.handle(request);
                return reply != null ? reply : "error unknown request " + request;
        }
    }

    /** Commits open files and uploads everything; the reply says what is still missing if time runs out. */
    private String flush(long timeoutMs) {
        try {
            vfs.syncAll();
        } catch (Exception e) {
            return "error " + e.getMessage();
        }
        if (writeBack.flushAll(timeoutMs) && problems().isEmpty()) {
            return "ok";
        }
        return "error uploads did not finish in " + timeoutMs / 1000 + " s (" + pending()
                + "); the data is safe in the local cache";
    }

    /** What has not reached the targets, per target, and any dead thread; one line. */
    private String pending() {
        List<String> parts = new ArrayList<>(deaths);
        for (WriteBack.TargetStatus t : writeBack.status(cache)) {
            if (t.pendingBlocks() > 0 || t.pendingJournalEntries() > 0 || !t.healthy()) {
                parts.add(t.target() + ": " + t.pendingBlocks() + " block(s) and " + t.pendingJournalEntries()
                        + " journal record(s) pending" + (t.lastError() == null ? "" : ", last error: " + t.lastError()));
            }
        }
        return String.join("; ", parts);
    }

    /**
     * The stop on SIGTERM: refuses further changes (EROFS), commits open files and uploads every
     * block and journal record, for at most the stop timeout; then says in the log what, if
     * anything, is still pending. Returns whether everything reached every target. Runs once; the
     * final {@link #close} then skips its own drain.
     */
    synchronized boolean stop() {
        if (drained != null) {
            return drained;
        }
        long deadline = System.currentTimeMillis() + stopTimeoutMs;
        LOG.info("stopping: refusing new writes, committing open files and uploading everything (at most {} s)", stopTimeoutMs / 1000);
        StrataLowLevel f = fuse;
        try {
            if (f != null && !f.stopWrites(stopTimeoutMs)) {
                LOG.warn("stopping: some writes were still under way after {} s (waiting at the dirty limit); they fail", stopTimeoutMs / 1000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        boolean ok = drain(Math.max(0, deadline - System.currentTimeMillis()));
        headlessStopped.countDown();
        return ok;
    }

    private boolean drain(long timeoutMs) {
        boolean ok = true;
        try {
            vfs.syncAll();
        } catch (Exception e) {
            LOG.error("committing open files failed: {}", e.getMessage());
            ok = false;
        }
        ok &= writeBack.flushAll(timeoutMs) && problems().isEmpty();
        kv.sync();
        if (ok) {
            LOG.info("every block and journal record is in every storage target");
        } else {
            LOG.error("stopped with data not yet in the storage targets (stop timeout {} s): {}; it is kept in {} and uploads when the "
                    + "volume is mounted again with that cache directory", stopTimeoutMs / 1000, pending(), cacheDir);
        }
        drained = ok;
        return ok;
    }

    /** Whether the final drain left nothing pending (false also when it has not run). */
    synchronized boolean drainedCleanly() {
        return Boolean.TRUE.equals(drained);
    }

    /** {@link #status(boolean)}, or null once the final drain is over and the volume closes (its LMDB goes away). */
    Map<String, Object> statusUnlessClosing() {
        synchronized (statusLock) {
            return statusClosed ? null : status(false);
        }
    }

    /** {@code withDigest}: also the digest of the whole tree (a walk of it: asked for by status, not by the systemd line). */
    Map<String, Object> status(boolean withDigest) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("volume", record.name());
        s.put("uuid", record.uuid());
        s.put("site", site);
        s.put("mountpoint", mountpoint.toString());
        s.put("cacheDir", cacheDir.toString());
        s.put("pid", ProcessHandle.current().pid());
        s.put("blockSize", record.blockSize());
        s.put("cacheCapacityBytes", cache.capacityBytes());
        s.put("cacheBytes", cache.cachedBytes());
        s.put("dirtyBytes", cache.dirtyBytes());
        s.put("dirtyBlocks", cache.dirtyBlocks());
        s.put("lmdbFileBytes", kv.usedBytes());
        long pendingBlocks = 0;
        long pendingJournal = 0;
        long uploadedBlocks = 0;
        List<Object> ts = new ArrayList<>();
        for (WriteBack.TargetStatus t : writeBack.status(cache)) {
            pendingBlocks = Math.max(pendingBlocks, t.pendingBlocks());
            pendingJournal = Math.max(pendingJournal, t.pendingJournalEntries());
            uploadedBlocks += t.uploadedBlocks();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("target", t.target());
            m.put("healthy", t.healthy());
            m.put("lastError", t.lastError());
            m.put("pendingBlocks", t.pendingBlocks());
            m.put("pendingJournalEntries", t.pendingJournalEntries());
            m.put("uploadedBlocks", t.uploadedBlocks());
            m.put("uploadedBytes", t.uploadedBytes());
            m.put("state", t.state());
            ts.add(m);
        }
        s.put("pendingBlocks", pendingBlocks);
        s.put("pendingJournalEntries", pendingJournal);
        s.put("uploadedBlocks", uploadedBlocks);
        s.putAll(ObservedStatus.fields(metrics, oldestPendingChangeAgeSeconds()));
        s.put("problems", problems());
        s.put("sites", sitesStatus(withDigest));
        s.put("targets", ts);
        return s;
    }

    /** This site and, per peer, how far behind it is: what {@code status} shows under "sites". */
    private Map<String, Object> sitesStatus(boolean withDigest) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("site", site);
        SiteDaemon d = daemon;
        m.put("daemon", d != null ? "running" : syncSettings == null ? "off" : "starting");
        m.put("logged", replica.cursors().getOrDefault(site, 0L));
        if (withDigest) {
            m.put("digest", bridge.digest());
        }
        List<Object> peers = new ArrayList<>();
        if (d != null) {
            m.put("publishError", d.publishError());
            for (SiteDaemon.PeerStatus p : d.status()) {
                Map<String, Object> pm = new LinkedHashMap<>();
                pm.put("site", p.site());
                pm.put("applied", p.applied());
                pm.put("behind", p.behind());
                pm.put("bytesBehind", p.bytesBehind());
                pm.put("blocksWaiting", p.blocksWaiting());
                pm.put("held", p.held());
                pm.put("lastExchange", p.lastExchangeMillis() <= 0 ? null : java.time.Instant.ofEpochMilli(p.lastExchangeMillis()).toString());
                pm.put("lastError", p.lastError());
                peers.add(pm);
            }
        }
        m.put("peers", peers);
        return m;
    }

    /** Seconds since the oldest change not yet in every target was committed; 0 when there is none. */
    private double oldestPendingChangeAgeSeconds() {
        long oldest = writeBack.oldestPendingChangeMillis();
        return oldest < 0 ? 0 : Math.max(0, System.currentTimeMillis() - oldest) / 1000.0;
    }

    /** The levels a Prometheus scrape reads, from the same sources as {@link #status}. */
    VolumeGauges gauges() {
        long backlogBlocks = 0;
        long backlogJournal = 0;
        List<VolumeGauges.Target> ts = new ArrayList<>();
        for (WriteBack.TargetStatus t : writeBack.status(cache)) {
            backlogBlocks = Math.max(backlogBlocks, t.pendingBlocks());
            backlogJournal = Math.max(backlogJournal, t.pendingJournalEntries());
            ts.add(new VolumeGauges.Target(t.target(), t.healthy(), t.pendingBlocks(), t.pendingJournalEntries()));
        }
        return new VolumeGauges(cache.cachedBytes(), cache.capacityBytes(), cache.dirtyBytes(), cache.dirtyBlocks(),
                backlogBlocks, backlogJournal, oldestPendingChangeAgeSeconds(), ts);
    }

    @Override
    public void close() {
        if (metricsEndpoint != null) {
            metricsEndpoint.close();
        }
        housekeeping.shutdown();
        synchronized (this) {
            if (drained == null) {
                drain(stopTimeoutMs);
            }
        }
        stopSync();
        synchronized (statusLock) {
            statusClosed = true;
        }
        paths.close();
        writeBack.close();
        vfs.close();
        cache.close();
        if (control != null) {
            try {
                control.close();
                Files.deleteIfExists(ControlChannel.socketFor(mountpoint));
            } catch (IOException e) {
                LOG.debug("closing the control socket: {}", e.toString());
            }
        }
        kv.close();
        try {
            Files.deleteIfExists(cacheDir.resolve(DaemonPidFile.NAME));
        } catch (IOException e) {
            LOG.debug("removing pid file: {}", e.toString());
        }
        for (ObjectStore t : targets) {
            t.close();
        }
        if (drainedCleanly()) {
            LOG.info("volume {} closed cleanly", record.name());
        } else {
            LOG.error("volume {} closed with data still to upload (see above)", record.name());
        }
    }
}
