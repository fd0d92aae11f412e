package io.stratafs.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.journal.LmdbReplicaStore;
import io.stratafs.journal.PeerCursors;
import io.stratafs.meta.LmdbKv;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The LMDB store remembers edges found dead, so that a tree removed and made again at the same name
 * is not walked on every lookup of that name. A removed directory comes back when a peer's
 * concurrent create, move or write lands inside it (add-wins): each such arrival must overturn what
 * was remembered, however deep inside it lands. Each case runs on memory stores (which remember
 * nothing) and on LMDB stores, which must present the same trees.
 */
class DeadEdgeMemoryTest {
    @TempDir
    Path dir;
    private final List<LmdbKv> open = new ArrayList<>();

    @AfterEach
    void close() {
        open.forEach(LmdbKv::close);
    }

    private Supplier<ReplicaStore> lmdb() {
        return () -> {
            LmdbKv kv = new LmdbKv(dir.resolve("cache-" + open.size()), 64L << 20);
            open.add(kv);
            return new LmdbReplicaStore(kv, new PeerCursors());
        };
    }

    private interface Concurrent {
        void at(Replica b) throws SyncException;
    }

    /**
     * A and B share /d/e/f; A removes the whole tree and makes /d again with a file in it (its
     * lookups of "d" find the old edge dead); B meanwhile does {@code concurrent}; then A receives B's log.
     */
    private interface Local {
        void run() throws SyncException;
    }

    /** A local operation as the mount makes it: inside a write transaction of the store (the namespace change's). */
    private static void local(ReplicaStore store, Local op) throws SyncException {
        SyncException[] refused = new SyncException[1];
        store.transaction(() -> {
            try {
                op.run();
            } catch (SyncException e) {
                refused[0] = e;
            }
        });
        if (refused[0] != null) {
            throw refused[0];
        }
    }

    /**
     * A and B share /d/e/f; A removes the whole tree and makes /d again, several times, with a file
     * in it (its lookups of "d" find the old edges dead); B meanwhile does {@code concurrent}; then A
     * receives B's log and creates a file in the tree that came back.
     */
    private static Tree[] scenario(Supplier<ReplicaStore> stores, Concurrent concurrent) throws SyncException {
        long t0 = Instant.parse("2026-12-01T16:00:00Z").toEpochMilli();
        AtomicLong wallA = new AtomicLong(t0);
        AtomicLong wallB = new AtomicLong(t0 + 5_000);
        ReplicaStore storeA = stores.get();
        Replica a = new Replica("A", wallA::get, storeA);
        Replica b = new Replica("B", wallB::get, stores.get());
        local(storeA, () -> a.create("/d", Sites.DIR, 0, 0, 0, null));
        local(storeA, () -> a.create("/d/e", Sites.DIR, 0, 0, 0, null));
        local(storeA, () -> a.create("/d/e/f", Sites.FILE, 0, 0, 0, null));
        local(storeA, () -> a.create("/g", Sites.DIR, 0, 0, 0, null));
        Sites.exchange(a, b);
        local(storeA, () -> a.remove("/d/e/f"));
        local(storeA, () -> a.remove("/d/e"));
        local(storeA, () -> a.remove("/d"));
        for (int i = 0; i < 3; i++) {
            String x = "/d/x" + i;
            local(storeA, () -> a.create("/d", Sites.DIR, 0, 0, 0, null));
            local(storeA, () -> a.create(x, Sites.FILE, 0, 0, 0, null));
            local(storeA, () -> a.remove(x));
            local(storeA, () -> a.remove("/d"));
        }
        local(storeA, () -> a.create("/d", Sites.DIR, 0, 0, 0, null));
        local(storeA, () -> a.create("/d/x", Sites.FILE, 0, 0, 0, null));
        local(storeA, () -> a.setAttr("/d/x", Op.SetAttr.MODE, 0600, 0, 0, 0, 0));
        concurrent.at(b);
        Sites.deliver(a, b.log(0));
        // decided in a write transaction, by what A now presents: /d/e is back
        local(storeA, () -> a.create("/d/e/after", Sites.FILE, 0, 0, 0, null));
        Tree atA = a.tree();
        Sites.exchange(a, b);
        return new Tree[] {atA, a.tree(), b.tree()};
    }

    private void sameOnBoth(Concurrent concurrent, String mustShow) throws SyncException {
        Tree[] memory = scenario(MemoryReplicaStore::new, concurrent);
        Tree[] lmdb = scenario(lmdb(), concurrent);
        assertTrue(memory[0].entries().containsKey(mustShow), mustShow + " is not in the memory stores' tree:\n" + memory[0]);
        assertEquals(memory[0], lmdb[0], "A's tree after B's log arrived");
        assertEquals(memory[1], lmdb[1], "A's tree after the exchange");
        assertEquals(lmdb[1], lmdb[2], "A and B differ on LMDB");
    }

    @Test
    void aPeersCreateDeepInsideARemovedTreeBringsItBack() throws Exception {
        sameOnBoth(b -> b.create("/d/e/late", Sites.FILE, 0, 0, 0, null), "/d/e/late");
    }

    @Test
    void aPeersWriteToAFileOfARemovedTreeBringsItBack() throws Exception {
        sameOnBoth(b -> b.write("/d/e/f", Sites.content("late"), 9), "/d/e/f");
    }

    @Test
    void aPeersMoveIntoARemovedTreeBringsItBack() throws Exception {
        sameOnBoth(b -> b.rename("/g", "/d/e/g"), "/d/e/g");
    }
}
