package io.stratafs.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.stratafs.journal.LmdbReplicaStore;
import io.stratafs.journal.PeerCursors;
import io.stratafs.meta.LmdbKv;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A small seeded check of the engine on its own: three sites with skewed clocks make random
 * operations on a few names (so they collide), exchange parts of their logs at random, then
 * exchange everything and must present one tree. The simulation (br-sim) runs the thorough version;
 * this one keeps the engine honest where it is built.
 */
class ReplicaRandomTest {
    private static final String[] NAMES = {"a", "b", "c.txt", "d"};

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
    void randomSchedulesConverge(long seed) {
        for (int round = 0; round < 25; round++) {
            run(seed * 1000 + round);
        }
    }

    /**
     * The same schedules over LMDB stores, which remember edges found dead across operations
     * ({@link ReplicaStore#knownDead}): every site must end with the tree the memory stores give,
     * which recompute liveness each time.
     */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void theLmdbStoresMemoryOfDeadEdgesChangesNoOutcome(long seed, @TempDir Path dir) {
        for (int round = 0; round < 8; round++) {
            long s = seed * 1000 + round;
            Tree memory = run(s, MemoryReplicaStore::new);
            List<LmdbKv> open = new ArrayList<>();
            try {
                Tree lmdb = run(s, () -> {
                    LmdbKv kv = new LmdbKv(dir.resolve(s + "-" + open.size()), 64L << 20);
                    open.add(kv);
                    return new LmdbReplicaStore(kv, new PeerCursors());
                });
                assertEquals(memory, lmdb, "seed " + s + ": the LMDB stores present another tree");
            } finally {
                open.forEach(LmdbKv::close);
            }
        }
    }

    private static Tree run(long seed) {
        return run(seed, MemoryReplicaStore::new);
    }

    private static Tree run(long seed, Supplier<ReplicaStore> stores) {
        Random rnd = new Random(seed);
        long base = java.time.Instant.parse("2026-11-30T10:00:00Z").toEpochMilli();
        List<AtomicLong> walls = new ArrayList<>();
        List<Replica> sites = new ArrayList<>();
        List<ReplicaStore> used = new ArrayList<>();
        long[] skew = {0, -7_200_000, 3_600_000};
        for (int i = 0; i < 3; i++) {
            AtomicLong wall = new AtomicLong(base + skew[i]);
            walls.add(wall);
            ReplicaStore store = stores.get();
            used.add(store);
            sites.add(new Replica(String.valueOf((char) ('A' + i)), wall::get, store));
        }
        for (int step = 0; step < 60; step++) {
            int s = rnd.nextInt(3);
            walls.get(s).addAndGet(rnd.nextInt(3000));
            if (rnd.nextInt(4) == 0) {
                deliverSome(sites.get(s), sites.get((s + 1 + rnd.nextInt(2)) % 3), rnd);
            } else {
                Replica r = sites.get(s);
                used.get(s).transaction(() -> act(r, rnd)); // as the mount makes a local change
            }
        }
        Sites.exchange(sites.toArray(new Replica[0]));
        Sites.exchange(sites.toArray(new Replica[0]));
        Tree t = sites.get(0).tree();
        for (Replica r : sites) {
            assertEquals(t, r.tree(), "seed " + seed + ": site " + r.site() + " differs");
        }
        return t;
    }

    private static void deliverSome(Replica to, Replica from, Random rnd) {
        long have = to.cursors().getOrDefault(from.site(), 0L);
        int n = rnd.nextInt(4);
        for (Envelope e : from.log(have)) {
            if (n-- == 0 || !to.ready(e)) {
                return;
            }
            to.apply(e);
        }
    }

    private static void act(Replica r, Random rnd) {
        List<String> paths = new ArrayList<>(r.tree().entries().keySet());
        String p = paths.get(rnd.nextInt(paths.size()));
        String q = paths.get(rnd.nextInt(paths.size()));
        String fresh = (q.equals("/") ? "" : q) + "/" + NAMES[rnd.nextInt(NAMES.length)];
        try {
            switch (rnd.nextInt(10)) {
                case 0 -> r.create(fresh, Sites.DIR, 0, 0, 0, null);
                case 1 -> r.create(fresh, Sites.FILE, 0, 0, 0, null);
                case 2, 3 -> r.write(p, Sites.content("x" + rnd.nextInt(100)), rnd.nextInt(1000));
                case 4, 5 -> r.rename(p, fresh);
                case 6 -> r.remove(p);
                case 7 -> r.setAttr(p, Op.SetAttr.MODE | Op.SetAttr.MTIME, rnd.nextInt(0777), 0, 0, 0, rnd.nextInt(99));
                case 8 -> r.setXattr(p, "user." + rnd.nextInt(2), rnd.nextBoolean() ? null : new byte[] {1});
                default -> r.link(p, fresh);
            }
        } catch (SyncException refused) {
            // Random operations are often refused (EEXIST, ENOTDIR, ...); refusing them is the behaviour.
        }
    }
}
