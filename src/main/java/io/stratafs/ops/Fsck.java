package io.stratafs.ops;

import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectNotFoundException;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import io.stratafs.store.TrashedBlocks;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

/**
 * Checks a volume's targets: every block any site's namespace references is present and intact
 * (its SHA-256 is its name, its length what the block list says) in every target; every inode is
 * reachable from the root; journal and checkpoints agree. With repair, a missing or corrupt block is
 * put back from a good copy: another target, a trashed copy, or the local cache of a mount.
 */
public final class Fsck {
    private static final int READERS = 4;

    /** What fsck found and did; the volume is clean when {@link #unrepaired} is empty. */
    public record Result(List<String> problems, List<String> repaired, List<String> unrepaired, int blocksChecked) {
        /** 0: clean, or every problem found was repaired; 1: problems remain. */
        public int exitCode() {
            return unrepaired.isEmpty() ? 0 : 1;
        }
    }

    /** A block found wanting in one target. */
    private record BadBlock(ObjectStore target, String hex, int length, String what) {
    }

    private final VolumeTargets volume;
    private final boolean repair;
    private final Function<byte[], byte[]> localCopy;
    private final Progress progress;

    /** {@code localCopy}: a block's bytes from a local cache by hash, or null when it lacks it (or the function is null). */
    public Fsck(VolumeTargets volume, boolean repair, Function<byte[], byte[]> localCopy, Progress progress) {
        this.volume = volume;
        this.repair = repair;
        this.localCopy = localCopy;
        this.progress = progress;
    }

    public Result run() throws StoreException {
        List<String> problems = new ArrayList<>();
        Map<String, Integer> referenced = new TreeMap<>();
        progress.phase("replaying the journals", volume.targets().size());
        for (ObjectStore t : volume.targets()) {
            for (String site : VolumeTargets.sites(t)) {
                problems.addAll(JournalCheck.problems(t, site));
                try (SiteNamespace ns = SiteNamespace.restore(t, site)) {
                    problems.addAll(ns.shapeProblems());
                    ns.collectBlocks(referenced);
                } catch (StoreException e) {
                    problems.add("cannot replay site " + site + " in " + t.describe() + ": " + e.getMessage());
                }
            }
            progress.advance();
        }
        List<String> unrepaired = new ArrayList<>(problems);
        List<BadBlock> bad = checkBlocks(referenced);
        List<String> repaired = new ArrayList<>();
        for (BadBlock b : bad) {
            String problem = "block " + b.hex() + " in " + b.target().describe() + " is " + b.what();
            problems.add(problem);
            String source = repair ? repair(b) : null;
            if (source != null) {
                repaired.add(problem + ": repaired from " + source);
            } else {
                unrepaired.add(problem);
            }
        }
        return new Result(problems, repaired, unrepaired, referenced.size() * volume.targets().size());
    }

    private List<BadBlock> checkBlocks(Map<String, Integer> referenced) throws StoreException {
        progress.phase("checking blocks", (long) referenced.size() * volume.targets().size());
        ExecutorService pool = Executors.newFixedThreadPool(READERS, r -> {
            Thread th = new Thread(r, "stratafs-fsck");
            th.setDaemon(true);
            return th;
        });
        try {
            List<Future<BadBlock>> checks = new ArrayList<>();
            for (ObjectStore t : volume.targets()) {
                for (Map.Entry<String, Integer> e : referenced.entrySet()) {
                    checks.add(pool.submit(() -> check(t, e.getKey(), e.getValue())));
                }
            }
            List<BadBlock> bad = new ArrayList<>();
            for (Future<BadBlock> f : checks) {
                BadBlock b = f.get();
                if (b != null) {
                    bad.add(b);
                }
                progress.advance();
            }
            return bad;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof StoreException se) {
                throw se;
            }
            throw new StoreException("checking blocks failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("interrupted while checking blocks", e);
        } finally {
            pool.shutdownNow();
        }
    }

    /** Null when the block is intact; reads only, even with repair (a reader's fallback would move things). */
    private static BadBlock check(ObjectStore t, String hex, int length) throws StoreException {
        byte[] data;
        try {
            data = t.get(ObjectKeys.block(hex));
        } catch (ObjectNotFoundException e) {
            boolean trashed = t.exists(ObjectKeys.trashedBlock(hex));
            return new BadBlock(t, hex, length, trashed ? "missing (a copy is in trash/)" : "missing");
        }
        if (data.length != length || !TrashedBlocks.matches(data, hex)) {
            return new BadBlock(t, hex, length, "corrupt (its content does not match its SHA-256)");
        }
        return null;
    }

    /** Puts a good copy back; returns where it came from, or null when there is none. */
    private String repair(BadBlock b) {
        for (ObjectStore source : volume.targets()) {
            for (String key : List.of(ObjectKeys.block(b.hex()), ObjectKeys.trashedBlock(b.hex()))) {
                if (source == b.target() && key.startsWith(ObjectKeys.BLOCKS_PREFIX)) {
                    continue;
                }
                try {
                    byte[] data = source.get(key);
                    if (data.length == b.length() && TrashedBlocks.matches(data, b.hex())) {
                        b.target().put(ObjectKeys.block(b.hex()), data);
                        return source.describe() + "/" + key;
                    }
                } catch (StoreException e) {
                    // no good copy here; try the next place
                }
            }
        }
        byte[] data = localCopy == null ? null : localCopy.apply(io.stratafs.meta.Bytes.unhex(b.hex()));
        if (data != null && data.length == b.length() && TrashedBlocks.matches(data, b.hex())) {
            try {
                b.target().put(ObjectKeys.block(b.hex()), data);
                return "the local cache";
            } catch (StoreException e) {
                return null;
            }
        }
        return null;
    }
}
