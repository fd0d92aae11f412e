package io.stratafs.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.cache.Sha256;
import io.stratafs.journal.LmdbReplicaStore;
import io.stratafs.journal.PeerCursors;
import io.stratafs.meta.BlockRef;
import io.stratafs.meta.Bytes;
import io.stratafs.meta.LmdbKv;
import io.stratafs.store.LocalDirStore;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sites exchanging through real storage (local directories) with their daemons running: a change at
 * one site appears at the other (with the delay measured), blocks reach the other site's own storage,
 * concurrent writes made while a daemon was down end as the same conflict copy at both, and a site
 * registered later is found without a restart.
 */
class SiteDaemonTest {
    private static final String VOLUME = "0d1c5b9e-6f1e-4a52-9a7e-3c1b2a0f9d11";

    @TempDir
    Path dir;
    private final List<AutoCloseable> closing = new ArrayList<>();
    private final ExecutorService pool = Executors.newFixedThreadPool(4);

    @AfterEach
    void tearDown() throws Exception {
        Collections.reverse(closing);
        for (AutoCloseable c : closing) {
            c.close();
        }
        pool.shutdownNow();
    }

    /** A site: its storage directory, its LMDB cache, its replica and (once started) its daemon. */
    private final class Site {
        final String name;
        final ObjectStore storage;
        final Replica replica;
        SiteDaemon daemon;

        Site(String name) throws Exception {
            this.name = name;
            this.storage = new LocalDirStore(dir.resolve("storage-" + name));
            LmdbKv kv = new LmdbKv(dir.resolve("cache-" + name), 64L << 20);
            closing.add(kv);
            this.replica = new Replica(name, System::currentTimeMillis, new LmdbReplicaStore(kv, new PeerCursors()));
            SiteRegistry.create(storage, SiteRecord.of(name, VOLUME, List.of(storage), StoreOptions.builder().build()));
        }

        /** Registers {@code peer} in this site's storage, as `format --join` does. */
        void knows(Site peer) throws Exception {
            SiteRegistry.create(storage, SiteRecord.of(peer.name, VOLUME, List.of(peer.storage), StoreOptions.builder().build()));
        }

        void start(long refreshMillis) throws Exception {
            OpenPeerStores peers = new OpenPeerStores(StoreOptions.builder().build());
            closing.add(peers);
            SiteRegistry registry = new SiteRegistry(VOLUME, name, List.of(storage), peers);
            BlockCopier copier = BlockCopier.builder().targets(List.of(storage)).executor(pool).build();
            daemon = new SiteDaemon(replica, List.of(storage), registry, peers, copier,
                    System::currentTimeMillis, new SiteDaemon.Options(100, refreshMillis, 64, 200));
            daemon.start();
            closing.add(daemon);
        }

        void stop() {
            daemon.close();
            closing.remove(daemon);
            daemon = null;
        }

        /** A local operation, as the mount will make it: under the replica's monitor, then a nudge. */
        Envelope act(Action a) throws Exception {
            Envelope e;
            synchronized (replica) {
                e = a.run(replica);
            }
            if (daemon != null) {
                daemon.localChange();
            }
            return e;
        }

        /** Stores a block in this site's storage, as its uploader would, and names it. */
        Manifest content(String text) throws Exception {
            byte[] data = text.getBytes(StandardCharsets.UTF_8);
            byte[] hash = Sha256.of(data);
            storage.put(ObjectKeys.block(Bytes.hex(hash)), data);
            return new Manifest(data.length, List.of(new Manifest.Block(0, new BlockRef(hash, data.length))));
        }

        Tree tree() {
            synchronized (replica) {
                return replica.tree();
            }
        }

        boolean has(String path) {
            return tree().entries().containsKey(path);
        }
    }

    @FunctionalInterface
    private interface Action {
        Envelope run(Replica r) throws Exception;
    }

    private static void await(String what, long timeoutMillis, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeoutMillis + " ms waiting until " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    private Site[] pair() throws Exception {
        Site a = new Site("A");
        Site b = new Site("B");
        a.knows(b);
        b.knows(a);
        return new Site[] {a, b};
    }

    @Test
    void changesPropagateAndTheDelayIsMeasured() throws Exception {
        Site[] s = pair();
        Site a = s[0];
        Site b = s[1];
        a.start(60_000);
        b.start(60_000);
        a.act(r -> r.create("/docs", 040755, 1000, 1000, 0, null));
        List<Long> delays = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            String path = "/docs/f" + i + ".txt";
            Manifest m = a.content("content of file " + i);
            long start = System.nanoTime();
            a.act(r -> r.create(path, 0100644, 1000, 1000, 0, null));
            a.act(r -> r.write(path, m, System.currentTimeMillis() * 1_000_000));
            await(path + " reaches B with its content", 20_000, () -> {
                Tree.Entry e = b.tree().entries().get(path);
                return e != null && m.equals(e.content());
            });
            delays.add((System.nanoTime() - start) / 1_000_000);
        }
        Collections.sort(delays);
        System.out.printf("SiteDaemonTest: propagation A->B through local directories over %d files: p50 %d ms, p99 %d ms, max %d ms%n",
                delays.size(), delays.get(delays.size() / 2), delays.get((int) Math.ceil(delays.size() * 0.99) - 1),
                delays.get(delays.size() - 1));
        b.act(r -> r.rename("/docs/f0.txt", "/docs/renamed-at-B.txt"));
        await("B's rename reaches A", 20_000, () -> a.has("/docs/renamed-at-B.txt") && !a.has("/docs/f0.txt"));
        await("the trees converge", 20_000, () -> a.tree().digest().equals(b.tree().digest()));
        // B applies a Write only once its blocks are in B's own storage: no waiting for a copy afterwards
        for (Tree.Entry e : b.tree().entries().values()) {
            if (e.content() != null) {
                for (Manifest.Block blk : e.content().blocks()) {
                    assertTrue(b.storage.exists(ObjectKeys.block(blk.ref().hex())), "B's storage lacks block " + blk.ref().hex());
                }
            }
        }
        SiteDaemon.PeerStatus peer = b.daemon.status().get(0);
        assertEquals("A", peer.site());
        assertEquals(0, peer.behind());
        assertEquals(null, peer.lastError());
        assertEquals(0, peer.blocksWaiting());
        assertEquals(0, peer.bytesBehind());
        assertEquals(null, peer.held());
    }

    @Test
    void concurrentWritesMadeWhileADaemonWasDownEndAsTheSameConflictCopyAtBothSites() throws Exception {
        Site[] s = pair();
        Site a = s[0];
        Site b = s[1];
        a.start(60_000);
        b.start(60_000);
        Manifest first = a.content("first");
        a.act(r -> r.create("/report.txt", 0100644, 0, 0, 0, null));
        a.act(r -> r.write("/report.txt", first, 1));
        await("the file reaches B", 20_000, () -> b.has("/report.txt") && first.equals(b.tree().entries().get("/report.txt").content()));
        b.stop();
        Manifest atA = a.content("edited at A");
        Manifest atB = b.content("edited at B");
        a.act(r -> r.write("/report.txt", atA, 2));
        b.act(r -> r.write("/report.txt", atB, 3));
        b.start(60_000);
        await("both sites show both versions", 20_000, () -> a.tree().entries().size() == 3 && a.tree().equals(b.tree()));
        long copies = a.tree().entries().values().stream().filter(Tree.Entry::conflictCopy).count();
        assertEquals(1, copies, "one conflict copy: " + a.tree().entries().keySet());
        assertTrue(a.tree().entries().keySet().stream().anyMatch(p -> p.startsWith("/report.conflict-")),
                "the copy is named after the report: " + a.tree().entries().keySet());
    }

    @Test
    void aSiteRegisteredLaterIsFoundWithoutARestart() throws Exception {
        Site[] s = pair();
        Site a = s[0];
        Site b = s[1];
        a.start(200);
        b.start(200);
        Site c = new Site("C");
        c.knows(b);
        b.knows(c);
        c.start(200);
        c.act(r -> r.create("/from-c", 040755, 0, 0, 0, null));
        await("A, registered only with B, learns of C and applies its change", 20_000, () -> a.has("/from-c"));
        await("all three converge", 20_000,
                () -> a.tree().digest().equals(b.tree().digest()) && b.tree().digest().equals(c.tree().digest()));
    }
}
