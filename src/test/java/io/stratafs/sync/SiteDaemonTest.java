package io.stratafs.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.cache.Sha256;
import io.stratafs.journal.LmdbReplicaStore;
import io.stratafs.journal.PeerLogReader;
import io.stratafs.journal.PeerCursors;
import io.stratafs.meta.BlockRef;
import io.stratafs.meta.Bytes;
import io.stratafs.meta.LmdbKv;
import io.stratafs.store.LocalDirStore;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import io.stratafs.store.StoreOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sites exchanging through real storage (local directories) with their daemons running: a change at
 * one site appears at the other (with the delay measured), blocks reach the other site's own storage
 * before the write that names them is applied, concurrent writes made while a daemon was down end as
 * the same conflict copy at both, and a site registered later is found without a restart. The hooks:
 * the applier gets causal batches under the replica's monitor (also for the own-log catch-up), a
 * refused envelope stops only its site, the publish test holds back the rest of the log, and a delete
 * burst is held until released.
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
            this(name, "cache-" + name);
        }

        /** A site over {@code cache} (a fresh one for a site whose cache was lost: same name, same storage). */
        Site(String name, String cache) throws Exception {
            this.name = name;
            this.storage = new LocalDirStore(dir.resolve("storage-" + name));
            LmdbKv kv = new LmdbKv(dir.resolve(cache), 64L << 20);
            closing.add(kv);
            this.replica = new Replica(name, System::currentTimeMillis, new LmdbReplicaStore(kv, new PeerCursors()));
            SiteRegistry.create(storage, SiteRecord.of(name, VOLUME, List.of(storage), StoreOptions.builder().build()));
        }

        /** Registers {@code peer} in this site's storage, as `format --join` does. */
        void knows(Site peer) throws Exception {
            SiteRegistry.create(storage, SiteRecord.of(peer.name, VOLUME, List.of(peer.storage), StoreOptions.builder().build()));
        }

        void start(long refreshMillis) throws Exception {
            start(new SiteDaemon.Options(100, refreshMillis, 64, 200), SiteDaemon.Hooks.direct(replica));
        }

        void start(SiteDaemon.Options options, SiteDaemon.Hooks hooks) throws Exception {
            OpenPeerStores peers = new OpenPeerStores(StoreOptions.builder().build());
            closing.add(peers);
            SiteRegistry registry = new SiteRegistry(VOLUME, name, List.of(storage), peers);
            BlockCopier copier = BlockCopier.builder().targets(List.of(storage)).executor(pool).build();
            daemon = new SiteDaemon(replica, List.of(storage), registry, peers, copier,
                    System::currentTimeMillis, options, hooks);
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
            Manifest m = manifest(text);
            upload(text);
            return m;
        }

        /** Puts the block of {@code text} into this site's storage. */
        void upload(String text) throws Exception {
            byte[] data = text.getBytes(StandardCharsets.UTF_8);
            storage.put(ObjectKeys.block(Bytes.hex(Sha256.of(data))), data);
        }

        /** The status this site's daemon shows of {@code peer}. */
        SiteDaemon.PeerStatus statusOf(String peer) {
            return daemon.status().stream().filter(p -> p.site().equals(peer)).findFirst()
                    .orElseThrow(() -> new AssertionError(name + " does not follow " + peer));
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

    /** Names the block of {@code text} without storing it anywhere. */
    private static Manifest manifest(String text) {
        byte[] data = text.getBytes(StandardCharsets.UTF_8);
        return new Manifest(data.length, List.of(new Manifest.Block(0, new BlockRef(Sha256.of(data), data.length))));
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

    /**
     * Applies as {@link SiteDaemon.Hooks#direct} does, but refuses (before applying any of the batch)
     * a batch holding an envelope {@code refuse} matches, and records each batch it applied.
     */
    private static final class RecordingApplier implements SiteDaemon.Applier {
        final Replica replica;
        final Predicate<Envelope> refuse;
        final List<List<Envelope>> batches = Collections.synchronizedList(new ArrayList<>());
        volatile boolean alwaysUnderTheReplicaMonitor = true;

        RecordingApplier(Replica replica, Predicate<Envelope> refuse) {
            this.replica = replica;
            this.refuse = refuse;
        }

        @Override
        public void apply(List<Envelope> batch) {
            alwaysUnderTheReplicaMonitor &= Thread.holdsLock(replica);
            if (batch.stream().anyMatch(refuse)) {
                throw new IllegalArgumentException("refused by the test");
            }
            batch.forEach(replica::apply);
            batches.add(List.copyOf(batch));
        }

        List<Integer> sizes() {
            synchronized (batches) {
                return batches.stream().map(List::size).toList();
            }
        }

        SiteDaemon.Hooks hooks() {
            return new SiteDaemon.Hooks(this, e -> true);
        }
    }

    private static final SiteDaemon.Options FAST = new SiteDaemon.Options(100, 60_000, 64, 200);

    /** The positions of {@code site}'s log that its storage holds. */
    private static List<Long> published(Site site) throws StoreException {
        return new PeerLogReader(site.storage, site.name, 64).read(0).envelopes().stream().map(Envelope::seq).toList();
    }

    /**
     * {@link #published}, or nothing yet when the listing met a temporary file the publisher was
     * renaming: an await looks again.
     */
    private static List<Long> publishedSoFar(Site site) {
        try {
            return published(site);
        } catch (StoreException e) {
            return List.of();
        }
    }

    private static boolean isCreateOf(Envelope e, String name) {
        return e.op() instanceof Op.Create c && c.name().equals(name);
    }

    /**
     * A change after a quiet spell is published at once; changes that follow within the publish
     * interval wait for it and go out together, instead of one segment per wake-up (a copy of 5,000
     * small files made 6,600 segments of its 30,000 operations).
     */
    @Test
    void changesWithinAPublishIntervalGoOutAsOneSegment() throws Exception {
        Site a = new Site("a");
        a.start(new SiteDaemon.Options(60_000, 60_000, 64, 200), SiteDaemon.Hooks.direct(a.replica));
        a.act(r -> r.create("/first", 0100644, 0, 0, 0, null));
        await("A's first operation is on its storage", 20_000, () -> publishedSoFar(a).size() == 1);
        for (int i = 0; i < 49; i++) {
            String name = "/next" + i;
            a.act(r -> r.create(name, 0100644, 0, 0, 0, null));
        }
        assertEquals(1, published(a).size(), "published before the interval since the first segment ended");
        a.stop(); // the publisher's last pass publishes what waits
        assertEquals(50, published(a).size());
        assertEquals(2, a.storage.list(ObjectKeys.opLogPrefix("a")).stream().filter(k -> !k.contains("head")).count(),
                "segments: " + a.storage.list(ObjectKeys.opLogPrefix("a")));
    }

    @Test
    void theApplierGetsCausalBatchesOfAtMost500UnderTheReplicaMonitorAlsoWhenASiteCatchesUpWithItsOwnLog() throws Exception {
        Site[] s = pair();
        Site a = s[0];
        Site b = s[1];
        a.start(60_000);
        a.act(r -> {
            r.create("/many", 040755, 0, 0, 0, null);
            Envelope last = null;
            for (int i = 0; i < 600; i++) {
                last = r.create("/many/f" + i, 0100644, 0, 0, 0, null);
            }
            return last;
        });
        await("A's 601 operations are on its storage", 20_000, () -> publishedSoFar(a).size() == 601);
        RecordingApplier atB = new RecordingApplier(b.replica, e -> false);
        b.start(FAST, atB.hooks());
        await("B applies all of A's operations", 20_000, () -> b.tree().digest().equals(a.tree().digest()));
        assertEquals(List.of(500, 101), atB.sizes(), "one read of 601 envelopes, applied as 500 then 101");
        assertTrue(atB.alwaysUnderTheReplicaMonitor, "the applier runs under the replica's monitor");

        a.stop();
        Site restored = new Site("A", "cache-A-lost-and-restored");
        RecordingApplier atRestored = new RecordingApplier(restored.replica, e -> false);
        restored.start(FAST, atRestored.hooks());
        assertEquals(List.of(500, 101), atRestored.sizes(), "start() catches up with the own log through the applier");
        assertTrue(atRestored.batches.stream().flatMap(List::stream).allMatch(e -> e.site().equals("A")));
        assertTrue(atRestored.alwaysUnderTheReplicaMonitor);
        assertEquals(a.tree().digest(), restored.tree().digest());
    }

    @Test
    void aRefusedEnvelopeStopsItsSiteWithASentenceWhileOtherSitesContinue() throws Exception {
        Site a = new Site("A");
        Site b = new Site("B");
        Site c = new Site("C");
        b.knows(a);
        b.knows(c);
        a.start(60_000);
        c.start(60_000);
        a.act(r -> {
            r.create("/ok", 040755, 0, 0, 0, null);
            r.create("/bad", 040755, 0, 0, 0, null);
            return r.create("/after", 040755, 0, 0, 0, null);
        });
        c.act(r -> r.create("/from-c", 040755, 0, 0, 0, null));
        RecordingApplier atB = new RecordingApplier(b.replica, e -> isCreateOf(e, "bad"));
        b.start(FAST, atB.hooks());
        await("B applies A's first operation and C's, and refuses A's second", 20_000,
                () -> b.has("/ok") && b.has("/from-c") && b.statusOf("A").lastError() != null);
        assertEquals("site A's operation A#2 (Create) cannot be applied here: refused by the test; "
                + "nothing more from site A is applied until this daemon is restarted", b.statusOf("A").lastError());
        assertEquals(1, b.statusOf("A").applied());
        assertFalse(b.has("/bad"));
        assertFalse(b.has("/after"), "nothing after the refused envelope");
        c.act(r -> r.create("/later-from-c", 040755, 0, 0, 0, null));
        await("C's later change still arrives", 20_000, () -> b.has("/later-from-c"));
        assertFalse(b.has("/after"));
        assertEquals(null, b.statusOf("C").lastError());
    }

    @Test
    void aPeersWriteWaitsUntilItsBlocksCanBeCopiedAndNothingAfterItOvertakesIt() throws Exception {
        Site[] s = pair();
        Site a = s[0];
        Site b = s[1];
        a.start(60_000);
        b.start(60_000);
        String text = "content A has not uploaded yet";
        Manifest m = manifest(text);
        a.act(r -> {
            r.create("/late.txt", 0100644, 0, 0, 0, null);
            r.write("/late.txt", m, 1);
            return r.create("/next", 040755, 0, 0, 0, null);
        });
        await("B waits for the write's block with the write and what follows buffered", 20_000,
                () -> b.statusOf("A").blocksWaiting() == 1 && b.statusOf("A").buffered() == 2);
        SiteDaemon.PeerStatus waiting = b.statusOf("A");
        assertEquals(m.size(), waiting.bytesBehind());
        assertEquals(2, waiting.behind());
        assertTrue(b.has("/late.txt"), "the create before the write is applied");
        assertFalse(m.equals(b.tree().entries().get("/late.txt").content()), "the write is not applied");
        assertFalse(b.has("/next"), "what follows the write waits with it");
        String key = ObjectKeys.block(m.blocks().get(0).ref().hex());
        assertFalse(b.storage.exists(key));

        a.upload(text);
        await("B copies the block and applies the write and what follows", 20_000,
                () -> b.has("/next") && m.equals(b.tree().entries().get("/late.txt").content()));
        assertTrue(b.storage.exists(key), "the block is in B's own storage");
        SiteDaemon.PeerStatus done = b.statusOf("A");
        assertEquals(0, done.blocksWaiting());
        assertEquals(0, done.bytesBehind());
        assertEquals(0, done.behind());
    }

    @Test
    void thePublishHookHoldsBackTheLogFromTheFirstEnvelopeItRefuses() throws Exception {
        Site[] s = pair();
        Site a = s[0];
        Site b = s[1];
        AtomicBoolean uploaded = new AtomicBoolean();
        a.start(FAST, new SiteDaemon.Hooks(SiteDaemon.Hooks.direct(a.replica).applier(),
                e -> !(e.op() instanceof Op.Write) || uploaded.get()));
        b.start(60_000);
        Manifest m = a.content("written at A");
        a.act(r -> {
            r.create("/x.txt", 0100644, 0, 0, 0, null);
            r.write("/x.txt", m, 1);
            return r.create("/y", 040755, 0, 0, 0, null);
        });
        await("the create before the held write reaches B", 20_000, () -> b.has("/x.txt"));
        assertEquals(List.of(1L), published(a), "nothing from the write on is published");
        assertFalse(b.has("/y"));

        uploaded.set(true);
        a.daemon.localChange();
        await("the rest follows once the write may be published", 20_000,
                () -> b.has("/y") && m.equals(b.tree().entries().get("/x.txt").content()));
        assertEquals(List.of(1L, 2L, 3L), published(a));
    }

    @Test
    void aDeleteBurstIsHeldWhileOtherSitesContinueUntilItIsReleased() throws Exception {
        Site a = new Site("A");
        Site b = new Site("B");
        Site c = new Site("C");
        b.knows(a);
        b.knows(c);
        a.start(60_000);
        c.start(60_000);
        b.start(new SiteDaemon.Options(100, 60_000, 64, 200, 0.5, 5), SiteDaemon.Hooks.direct(b.replica));
        a.act(r -> {
            Envelope last = r.create("/d", 040755, 0, 0, 0, null);
            for (int i = 0; i < 10; i++) {
                last = r.create("/d/f" + i, 0100644, 0, 0, 0, null);
            }
            return last;
        });
        await("B has A's files", 20_000, () -> b.has("/d/f9"));
        a.act(r -> {
            Envelope last = null;
            for (int i = 0; i < 8; i++) {
                last = r.remove("/d/f" + i);
            }
            return last;
        });
        await("B holds A's deletions", 20_000, () -> b.statusOf("A").held() != null);
        SiteDaemon.PeerStatus held = b.statusOf("A");
        assertEquals("holding 8 deletions from site A (73% of 11 names; --max-delete 50%): "
                + "if they are meant, release them with `stratafs release-deletes MOUNTPOINT A`", held.held());
        assertEquals(8, held.behind());
        assertTrue(b.has("/d/f0") && b.has("/d/f7"), "nothing is deleted while held");
        c.act(r -> r.create("/from-c", 040755, 0, 0, 0, null));
        await("C's change arrives while A's are held", 20_000, () -> b.has("/from-c"));
        assertTrue(b.has("/d/f0"));

        assertEquals("this site does not follow a site named Z (sites followed: A, C)",
                assertThrows(IllegalArgumentException.class, () -> b.daemon.releaseHold("Z")).getMessage());
        b.daemon.releaseHold("A");
        await("the released deletions are applied", 20_000, () -> !b.has("/d/f0") && !b.has("/d/f7"));
        assertTrue(b.has("/d/f8") && b.has("/d/f9"));
        assertEquals(null, b.statusOf("A").held());
        assertEquals(0, b.statusOf("A").behind());
    }

    @Test
    void deleteGuardSettingsOutOfRangeAreRefusedWithASentence() {
        assertEquals("the share of names a peer may delete at once must be above 0% and at most 100%, not 150%",
                assertThrows(IllegalArgumentException.class, () -> new SiteDaemon.Options(100, 60_000, 64, 200, 1.5, 50)).getMessage());
        assertEquals("the delete-burst guard needs a minimum of at least 1 deletion, not 0",
                assertThrows(IllegalArgumentException.class, () -> new SiteDaemon.Options(100, 60_000, 64, 200, 0.5, 0)).getMessage());
        assertEquals(0.5, SiteDaemon.Options.DEFAULTS.maxDeleteShare());
        assertEquals(50, SiteDaemon.Options.DEFAULTS.minDeletes());
    }

    @Test
    void anIdlePublisherIsWokenByALocalChangeAndABurstWakesItAtMostOnce() throws Exception {
        Site a = new Site("A");
        // an interval far past the test's deadlines: only a wake-up publishes the first change at once
        a.start(new SiteDaemon.Options(600_000, 600_000, 64, 200), SiteDaemon.Hooks.direct(a.replica));
        a.act(r -> r.create("/first", 0100644, 0, 0, 0, null));
        await("the first change after a quiet spell is published at once", 20_000, () -> publishedSoFar(a).equals(List.of(1L)));
        long woken = a.daemon.publisherWakeUps();
        assertTrue(woken <= 1, "one change wakes the idle publisher at most once, not " + woken);
        for (int i = 0; i < 1_000; i++) {
            int n = i;
            a.act(r -> r.create("/burst" + n, 0100644, 0, 0, 0, null));
        }
        // the burst's first change may find the publisher idle again (it published the first change
        // and saw nothing newer); it then waits out its interval, and no other change of the burst wakes it
        long burst = a.daemon.publisherWakeUps() - woken;
        assertTrue(burst <= 1, "1,000 changes wake the publisher at most once, not " + burst + " times");
    }
}
