package io.stratafs.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.meta.BlockRef;
import io.stratafs.meta.LmdbKv;
import io.stratafs.sync.Envelope;
import io.stratafs.sync.Manifest;
import io.stratafs.sync.MemoryReplicaStore;
import io.stratafs.sync.Op;
import io.stratafs.sync.Replica;
import io.stratafs.sync.ReplicaStore;
import io.stratafs.sync.SyncException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The LMDB replica store behaves exactly like the memory store the engine's tests and the
 * simulation use: two sites make the same random operations and exchange the same logs twice, once
 * over memory and once over LMDB, and present the same trees at every step, also across a reopen of
 * the cache. Plus what only LMDB can get wrong: atomicity and durability of a transaction.
 */
class LmdbReplicaStoreTest {
    private static final String[] NAMES = {"a", "b", "c", "d.txt", "e"};

    @TempDir
    Path dir;
    private final List<LmdbKv> open = new ArrayList<>();

    @AfterEach
    void close() {
        open.forEach(LmdbKv::close);
    }

    private LmdbKv kv(String name) {
        LmdbKv kv = new LmdbKv(dir.resolve(name), 64L << 20);
        open.add(kv);
        return kv;
    }

    /** One site twice: over memory and over LMDB, driven identically. */
    private final class Twin {
        final String site;
        final AtomicLong wall;
        final Replica memory;
        Replica lmdb;
        LmdbKv kv;

        Twin(String site, long startMillis) {
            this.site = site;
            this.wall = new AtomicLong(startMillis);
            this.memory = new Replica(site, wall::get, new MemoryReplicaStore());
            this.kv = kv(site);
            this.lmdb = new Replica(site, wall::get, new LmdbReplicaStore(kv, new PeerCursors()));
        }

        void reopen() {
            kv.close();
            open.remove(kv);
            kv = kv(site);
            lmdb = new Replica(site, wall::get, new LmdbReplicaStore(kv, new PeerCursors()));
        }
    }

    @Test
    void presentsTheSameTreesAsTheMemoryStoreThroughRandomOperationsAndExchanges() throws Exception {
        for (long seed = 1; seed <= 5; seed++) {
            for (LmdbKv kv : open) {
                kv.close();
            }
            open.clear();
            dir = java.nio.file.Files.createTempDirectory(dir, "seed" + seed);
            runSeed(seed);
        }
    }

    private void runSeed(long seed) throws Exception {
        Random random = new Random(seed);
        Twin a = new Twin("A", 1_700_000_000_000L);
        Twin b = new Twin("B", 1_700_000_000_000L + 3_600_000);
        Twin[] sites = {a, b};
        for (int step = 0; step < 200; step++) {
            Twin t = sites[random.nextInt(2)];
            t.wall.addAndGet(random.nextInt(5));
            int action = random.nextInt(20);
            if (action == 0) {
                Twin other = t == a ? b : a;
                deliver(t.memory, other.memory.log(0));
                deliver(t.lmdb, other.lmdb.log(0));
            } else if (action == 1) {
                t.reopen();
            } else {
                long opSeed = random.nextLong();
                Envelope m = act(t.memory, new Random(opSeed));
                Envelope l = act(t.lmdb, new Random(opSeed));
                assertEquals(m, l, "seed " + seed + " step " + step + ": the same action made different operations");
            }
            assertEquals(t.memory.tree(), t.lmdb.tree(), "seed " + seed + " step " + step + " at " + t.site);
            assertEquals(t.memory.cursors(), t.lmdb.cursors(), "seed " + seed + " step " + step);
        }
        deliver(a.lmdb, b.lmdb.log(0));
        deliver(b.lmdb, a.lmdb.log(0));
        assertEquals(a.lmdb.tree(), b.lmdb.tree(), "seed " + seed + ": the LMDB sites did not converge");
    }

    /** One random local operation; null when POSIX refused it (the same at both twins). */
    private static Envelope act(Replica r, Random random) {
        java.util.SortedMap<String, io.stratafs.sync.Tree.Entry> tree = r.tree().entries();
        List<String> paths = new ArrayList<>(tree.keySet());
        String any = paths.get(random.nextInt(paths.size()));
        List<String> dirs = paths.stream().filter(p -> (tree.get(p).mode() & 0170000) == 040000).toList();
        String dirPath = dirs.get(random.nextInt(dirs.size()));
        String fresh = (dirPath.equals("/") ? "" : dirPath) + "/" + NAMES[random.nextInt(NAMES.length)];
        try {
            return switch (random.nextInt(8)) {
                case 0 -> r.create(fresh, 0100644, 1000, 1000, 0, null);
                case 1 -> r.create(fresh, 040755, 1000, 1000, 0, null);
                case 2 -> r.write(any, manifest(random), 1_000L * random.nextInt(1000));
                case 3 -> r.rename(any, fresh);
                case 4 -> r.remove(any);
                case 5 -> r.setAttr(any, Op.SetAttr.MODE | Op.SetAttr.UID, random.nextInt(07777), random.nextInt(5), 0, 0, 0);
                case 6 -> r.setXattr(any, "user.k" + random.nextInt(2), random.nextBoolean() ? null : new byte[] {(byte) random.nextInt()});
                default -> r.link(any, fresh);
            };
        } catch (SyncException e) {
            return null;
        }
    }

    private static Manifest manifest(Random random) {
        List<Manifest.Block> blocks = new ArrayList<>();
        int n = random.nextInt(3);
        for (int i = 0; i < n; i++) {
            byte[] hash = new byte[32];
            random.nextBytes(hash);
            blocks.add(new Manifest.Block(i, new BlockRef(hash, 4096)));
        }
        return new Manifest(n * 4096L, blocks);
    }

    private static void deliver(Replica to, List<Envelope> log) {
        for (Envelope e : log) {
            if (e.seq() > to.cursors().getOrDefault(e.site(), 0L)) {
                assertTrue(to.ready(e), "a peer's log in order is always ready: " + e);
                to.apply(e);
            }
        }
    }

    @Test
    void aFailedTransactionLeavesNothingBehind() throws Exception {
        LmdbKv kv = kv("atomic");
        ReplicaStore store = new LmdbReplicaStore(kv, new PeerCursors());
        Replica r = new Replica("A", () -> 1_700_000_000_000L, store);
        r.create("/kept", 0100644, 0, 0, 0, null);
        assertThrows(IllegalStateException.class, () -> store.transaction(() -> {
            store.putCursor("B", 7);
            store.putClock(Long.MAX_VALUE);
            throw new IllegalStateException("planted failure");
        }));
        assertNull(store.cursors().get("B"));
        assertTrue(store.clock() < Long.MAX_VALUE);
        assertEquals(List.of("/", "/kept"), new ArrayList<>(r.tree().entries().keySet()));
    }

    /**
     * Records decoded inside a transaction are remembered for that transaction only: a failed one
     * leaves no node or edge behind in them, and a later transaction reads what was committed.
     */
    @Test
    void recordsReadOrPutInAFailedTransactionAreNotSeenByTheNext() throws Exception {
        LmdbKv kv = kv("decoded");
        LmdbReplicaStore store = new LmdbReplicaStore(kv, new PeerCursors());
        Replica r = new Replica("A", () -> 1_700_000_000_000L, store);
        Envelope kept = r.create("/kept", 0100644, 0, 0, 0, null);
        io.stratafs.sync.OpId id = kept.op().id();
        io.stratafs.sync.NodeRecord before = store.node(id);
        assertThrows(IllegalStateException.class, () -> kv.writeVoid(txn -> store.within(txn, () -> {
            assertEquals(before.perm(), store.node(id).perm());
            try {
                r.setAttr("/kept", Op.SetAttr.MODE, 0600, 0, 0, 0, 0);
                r.remove("/kept");
            } catch (SyncException e) {
                throw new AssertionError(e);
            }
            assertEquals(0600, store.node(id).perm().value());
            throw new IllegalStateException("planted failure");
        })));
        kv.writeVoid(txn -> store.within(txn, () -> {
            assertEquals(0644, store.node(id).perm().value());
            assertNull(store.edge(id).removal());
        }));
        assertEquals(0644, r.stat("/kept").mode() & 0777);
        assertEquals(List.of("/", "/kept"), new ArrayList<>(r.tree().entries().keySet()));
    }

    @Test
    void aReopenedCacheContinuesTheLogWithoutReusingPositionsOrStamps() throws Exception {
        LmdbKv kv = kv("reopen");
        Replica r = new Replica("A", () -> 1_700_000_000_000L, new LmdbReplicaStore(kv, new PeerCursors()));
        Envelope first = r.create("/x", 0100644, 0, 0, 0, null);
        kv.close();
        open.remove(kv);
        LmdbKv again = kv("reopen");
        Replica back = new Replica("A", () -> 1_600_000_000_000L, new LmdbReplicaStore(again, new PeerCursors()));
        Envelope second = back.create("/y", 0100644, 0, 0, 0, null);
        assertEquals(first.seq() + 1, second.seq());
        assertTrue(second.op().id().after(first.op().id()), "a wall clock that stepped back must not reuse stamps");
        assertEquals(List.of(first, second), back.log(0));
    }

    @Test
    void aLogReadWhileItsEnvelopesPassTakesTheSamePrefixAsTheMemoryStoreAndDecodesNoFurther() throws Exception {
        LmdbKv kv = kv("while");
        Replica lmdb = new Replica("A", () -> 1_700_000_000_000L, new LmdbReplicaStore(kv, new PeerCursors()));
        Replica memory = new Replica("A", () -> 1_700_000_000_000L, new MemoryReplicaStore());
        for (int i = 0; i < 10; i++) {
            lmdb.create("/f" + i, 0100644, 0, 0, 0, null);
            memory.create("/f" + i, 0100644, 0, 0, 0, null);
        }
        for (Replica r : List.of(lmdb, memory)) {
            assertEquals(r.log(0).subList(0, 4), r.logWhile(0, 4, e -> true), "at most max");
            assertEquals(r.log(2).subList(0, 3), r.logWhile(2, 100, e -> e.seq() <= 5), "up to the first that fails");
            assertEquals(List.of(), r.logWhile(10, 100, e -> true), "nothing after the end");
        }
        List<Long> tested = new ArrayList<>();
        lmdb.logWhile(0, 100, e -> {
            tested.add(e.seq());
            return e.seq() < 3;
        });
        assertEquals(List.of(1L, 2L, 3L), tested, "nothing is tested after the first envelope that fails");
    }
}
