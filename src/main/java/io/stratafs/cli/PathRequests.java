package io.stratafs.cli;

import io.stratafs.cache.BlockCache;
import io.stratafs.cache.Warmup;
import io.stratafs.meta.Kv;
import io.stratafs.vfs.FsException;
import io.stratafs.vfs.Vfs;
import io.stratafs.writeback.SyncState;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The control requests about paths inside the mount: {@code synced PATH} (the state of a file or tree
 * for {@code stratafs status PATH}) and the warmup jobs ({@code warmup-start PARALLEL PATH...},
 * {@code warmup-progress ID}, {@code warmup-cancel ID}). Paths are below the mount root and
 * URL-encoded, since a request is one line of space-separated words.
 */
final class PathRequests {
    /** Pending paths named in one status reply; the counts cover the rest. */
    static final int MAX_LISTED = 100;
    private static final int MAX_PARALLEL = 64;

    private final Kv kv;
    private final BlockCache cache;
    private final Vfs vfs;
    private final SyncState sync;
    private final Map<Long, Job> jobs = new ConcurrentHashMap<>();
    private final AtomicLong nextJob = new AtomicLong(1);

    private record Job(Warmup warmup, ExecutorService fetchers) {
    }

    PathRequests(Kv kv, BlockCache cache, Vfs vfs, SyncState sync) {
        this.kv = kv;
        this.cache = cache;
        this.vfs = vfs;
        this.sync = sync;
    }

    static String encode(String path) {
        return URLEncoder.encode(path, StandardCharsets.UTF_8);
    }

    private static String decode(String word) {
        return URLDecoder.decode(word, StandardCharsets.UTF_8);
    }

    /** The reply, or null when the request is not one of these. */
    String handle(String request) {
        String[] w = request.split(" ");
        try {
            switch (w[0]) {
                case "synced":
                    return synced(decode(w[1]));
                case "warmup-start":
                    return startWarmup(w);
                case "warmup-progress":
                    return progress(Long.parseLong(w[1]));
                case "warmup-cancel":
                    Job job = jobs.get(Long.parseLong(w[1]));
                    if (job != null) {
                        job.warmup().cancel();
                    }
                    return "ok";
                default:
                    return null;
            }
        } catch (ArrayIndexOutOfBoundsException | NumberFormatException e) {
            return "error malformed request: " + request;
        } catch (FsException e) {
            return "error " + e.getMessage();
        }
    }

    private String synced(String path) throws FsException {
        long[] chain = resolve(path);
        SyncState.TreeSync t = sync.tree(chain, vfs::uncommittedBytes, MAX_LISTED);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", path);
        m.put("type", t.rootIsDirectory() ? "directory" : "file");
        m.put("synced", t.synced());
        m.put("state", t.rootDescription());
        m.put("files", t.files());
        m.put("filesSynced", t.files() - t.filesPending());
        m.put("filesPending", t.filesPending());
        m.put("directories", t.directories());
        m.put("directoriesPending", t.directoriesPending());
        m.put("bytesPending", t.bytesPending());
        m.put("journalEntriesPending", t.journalEntriesPending());
        List<Object> pending = new ArrayList<>();
        for (Map.Entry<String, String> e : t.pending().entrySet()) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("path", e.getKey().isEmpty() ? path : (path.equals("/") ? "" : path) + e.getKey());
            p.put("state", e.getValue());
            pending.add(p);
        }
        m.put("pending", pending);
        m.put("pendingTruncated", t.truncated());
        return Json.write(m);
    }

    private long[] resolve(String path) throws FsException {
        try {
            return vfs.resolveChain(path);
        } catch (FsException e) {
            throw new FsException(e.errno(), path + ": " + e.getMessage());
        }
    }

    private String startWarmup(String[] w) throws FsException {
        int parallel = Integer.parseInt(w[1]);
        if (parallel < 1 || parallel > MAX_PARALLEL) {
            return "error --parallel must be between 1 and " + MAX_PARALLEL + ", got " + parallel;
        }
        Map<String, Long> roots = new LinkedHashMap<>();
        for (int i = 2; i < w.length; i++) {
            String path = decode(w[i]);
            long[] chain = resolve(path);
            roots.put(path, chain[chain.length - 1]);
        }
        if (roots.isEmpty()) {
            return "error warmup needs at least one path";
        }
        ExecutorService fetchers = Executors.newFixedThreadPool(parallel, r -> {
            Thread t = new Thread(r, "stratafs-warmup");
            t.setDaemon(true);
            return t;
        });
        Warmup warmup = new Warmup(kv, cache, roots, parallel, fetchers);
        long id = nextJob.getAndIncrement();
        jobs.put(id, new Job(warmup, fetchers));
        Thread runner = new Thread(() -> {
            try {
                warmup.run();
            } finally {
                fetchers.shutdown();
            }
        }, "stratafs-warmup-" + id);
        runner.setDaemon(true);
        runner.start();
        return "ok " + id;
    }

    /** A finished job is forgotten once its last progress has been handed out. */
    private String progress(long id) {
        Job job = jobs.get(id);
        if (job == null) {
            return "error no warmup " + id + " is running";
        }
        Warmup.Progress p = job.warmup().progress();
        if (p.done()) {
            jobs.remove(id);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("scanning", p.scanning());
        m.put("done", p.done());
        m.put("filesTotal", p.filesTotal());
        m.put("bytesTotal", p.bytesTotal());
        m.put("filesDone", p.filesDone());
        m.put("bytesDone", p.bytesDone());
        m.put("blockBytesDone", p.blockBytesDone());
        m.put("fetchedBytes", p.fetchedBytes());
        m.put("filesFailed", p.filesFailed());
        m.put("failures", new ArrayList<Object>(p.failures()));
        m.put("stopped", p.stopped());
        m.put("stoppedBefore", p.stoppedBefore());
        m.put("seconds", p.seconds());
        return Json.write(m);
    }

    /** Stops every warmup (the volume is going away). */
    void close() {
        for (Job job : jobs.values()) {
            job.warmup().cancel();
            job.fetchers().shutdownNow();
        }
    }
}
