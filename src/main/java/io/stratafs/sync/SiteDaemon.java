package io.stratafs.sync;

import io.stratafs.journal.LogPublisher;
import io.stratafs.journal.PeerLogReader;
import io.stratafs.journal.PollSchedule;
import io.stratafs.journal.SiteHead;
import io.stratafs.meta.BlockRef;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A site's sync daemon: publishes this site's log to each of its own targets, polls every peer's
 * log from the peer's storage, applies the peers' operations in causal order, and has the block
 * copier bring every block they name into this site's own storage. Peers come from the registry,
 * refreshed now and then, so a site that joins later is found without a restart.
 *
 * <p>Three threads: the publisher (woken by {@link #localChange}, else every publish interval),
 * the poller (one loop over all peers, each on its own adaptive {@link PollSchedule}), the copier.
 * The replica is single-threaded: every call on it here holds the replica's monitor, and so must
 * every other caller (the mount).
 *
 * <p>Nothing missing turns into a delete: a peer whose storage is empty or unreachable simply has
 * nothing new to apply, and only operations its own log names are ever applied.
 */
public final class SiteDaemon implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SiteDaemon.class);

    /** Timing of the daemon's loops; {@link #DEFAULTS} is what a mount uses. */
    public record Options(long publishIntervalMillis, long registryRefreshMillis, int maxSegmentsPerRead, long retryMillis) {
        public static final Options DEFAULTS = new Options(100, 60_000, 64, 1_000);
    }

    /** One peer as status shows it. {@code headSeq} is -1 before its head was read. */
    public record PeerStatus(String site, long applied, long headSeq, int buffered, long lastExchangeMillis, String lastError) {
        /** Operations the peer has published that this site has not applied. */
        public long behind() {
            return headSeq < 0 ? 0 : Math.max(0, headSeq - applied);
        }
    }

    /** Applies envelopes in the given order; each is ready once those before it are applied. All or nothing. */
    public interface Applier {
        void apply(List<Envelope> batch);
    }

    /** How envelopes are applied, and which of this site's may be published yet. */
    public record Hooks(Applier applier, java.util.function.Predicate<Envelope> publishable) {
        public static Hooks direct(Replica replica) {
            return new Hooks(batch -> batch.forEach(replica::apply), e -> true);
        }
    }

    private final Replica replica;
    private Hooks hooks;
    private final String self;
    private final List<ObjectStore> own;
    private final SiteRegistry registry;
    private final SiteRegistry.PeerStores peerStores;
    private final BlockCopier copier;
    private final LongSupplier wallMillis;
    private final Options options;
    private final List<LogPublisher> publishers = new ArrayList<>();
    private final Map<String, Peer> peers = new TreeMap<>();
    private final Set<BlockRef> wanted = new LinkedHashSet<>();
    private final Object wake = new Object();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running;
    private volatile String publishError;
    private long localChanges;
    private long lastRefresh;

    /** What this site knows of one peer. Guarded by {@link #peers}. */
    private static final class Peer {
        final SiteRecord record;
        final List<ObjectStore> stores;
        final PeerLogReader reader;
        final PollSchedule schedule;
        final TreeMap<Long, Envelope> buffered = new TreeMap<>();
        long nextPollMillis;
        long headSeq = -1;
        long lastExchangeMillis;
        String lastError;

        Peer(SiteRecord record, List<ObjectStore> stores, int maxSegments, LongSupplier wallMillis) {
            this.record = record;
            this.stores = stores;
            this.reader = new PeerLogReader(stores.get(0), record.name(), maxSegments);
            this.schedule = new PollSchedule(wallMillis);
        }
    }

    public SiteDaemon(Replica replica, List<ObjectStore> own, SiteRegistry registry, SiteRegistry.PeerStores peerStores,
                      BlockCopier copier, LongSupplier wallMillis, Options options) {
        this.replica = replica;
        this.self = replica.site();
        this.own = List.copyOf(own);
        this.registry = registry;
        this.peerStores = peerStores;
        this.copier = copier;
        this.wallMillis = wallMillis;
        this.options = options;
        for (ObjectStore target : own) {
            publishers.add(new LogPublisher(target, self, wallMillis));
        }
        this.hooks = Hooks.direct(replica);
    }

    public SiteDaemon(Replica replica, List<ObjectStore> own, SiteRegistry registry, SiteRegistry.PeerStores peerStores,
                      BlockCopier copier, LongSupplier wallMillis, Options options, Hooks hooks) {
        this(replica, own, registry, peerStores, copier, wallMillis, options);
        this.hooks = hooks;
    }

    /**
     * Catches up with this site's own log as its storage holds it (a cache restored from an older
     * copy must not reuse log positions), wants every block the tree names, then starts the loops.
     */
    public void start() throws StoreException {
        catchUpOwnLog();
        synchronized (replica) {
            for (Tree.Entry e : replica.tree().entries().values()) {
                if (e.content() != null) {
                    e.content().blocks().forEach(b -> wanted.add(b.ref()));
                }
            }
        }
        refreshPeers();
        running = true;
        startThread("stratafs-sync-publish", this::publishLoop);
        startThread("stratafs-sync-poll", this::pollLoop);
        startThread("stratafs-sync-copy", this::copyLoop);
    }

    private void startThread(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    private void catchUpOwnLog() throws StoreException {
        for (int i = 0; i < own.size(); i++) {
            ObjectStore target = own.get(i);
            long published = publishers.get(i).recover();
            synchronized (replica) {
                if (published <= replica.cursors().getOrDefault(self, 0L)) {
                    continue; // the usual case: storage holds no more of our log than we do
                }
            }
            PeerLogReader reader = new PeerLogReader(target, self, options.maxSegmentsPerRead());
            PeerLogReader.Batch batch;
            do {
                long cursor;
                synchronized (replica) {
                    cursor = replica.cursors().getOrDefault(self, 0L);
                }
                batch = reader.read(cursor);
                synchronized (replica) {
                    for (Envelope e : batch.envelopes()) {
                        if (replica.ready(e)) {
                            hooks.applier().apply(List.of(e));
                        }
                    }
                }
            } while (batch.more());
        }
    }

    /** Tells the publisher that this site made an operation: it publishes at once rather than at its next interval. */
    public void localChange() {
        synchronized (peers) {
            peers.values().forEach(p -> p.schedule.activity());
        }
        synchronized (wake) {
            localChanges++;
            wake.notifyAll();
        }
    }

    // ---- publishing ---------------------------------------------------------------------------

    private void publishLoop() {
        long seen = -1;
        while (running) {
            publishOnce();
            synchronized (wake) {
                if (seen == localChanges && running) {
                    waitOn(wake, publishError == null ? options.publishIntervalMillis() : options.retryMillis());
                }
                seen = localChanges;
            }
        }
        publishOnce();
    }

    /** Publishes to every own target what it lacks of this site's log; returns whether all succeeded. */
    boolean publishOnce() {
        boolean ok = true;
        for (LogPublisher p : publishers) {
            try {
                long from = p.recover();
                List<Envelope> batch;
                synchronized (replica) {
                    batch = replica.log(from);
                }
                int publishable = 0;
                while (publishable < batch.size() && hooks.publishable().test(batch.get(publishable))) {
                    publishable++;
                }
                batch = batch.subList(0, publishable);
                if (!batch.isEmpty()) {
                    p.publish(batch);
                }
            } catch (StoreException | RuntimeException e) {
                ok = false;
                if (!e.getMessage().equals(publishError)) {
                    LOG.warn("publishing this site's log failed, retrying: {}", e.getMessage());
                }
                publishError = e.getMessage();
            }
        }
        if (ok) {
            publishError = null;
        }
        return ok;
    }

    // ---- polling and applying -----------------------------------------------------------------

    private void pollLoop() {
        while (running) {
            long now = wallMillis.getAsLong();
            if (now - lastRefresh >= options.registryRefreshMillis()) {
                refreshPeers();
            }
            Peer due = null;
            synchronized (peers) {
                for (Peer p : peers.values()) {
                    if (due == null || p.nextPollMillis < due.nextPollMillis) {
                        due = p;
                    }
                }
            }
            long until = due == null ? now + options.retryMillis() : due.nextPollMillis;
            if (until > now) {
                synchronized (wake) {
                    waitOn(wake, Math.min(until - now, options.retryMillis()));
                }
                continue;
            }
            poll(due);
        }
    }

    /** Reads what one peer published since what this site holds of its log, and applies what is ready. */
    void poll(Peer peer) {
        long now = wallMillis.getAsLong();
        boolean moved = false;
        try {
            long held;
            synchronized (replica) {
                held = replica.cursors().getOrDefault(peer.record.name(), 0L);
            }
            synchronized (peers) {
                if (!peer.buffered.isEmpty()) {
                    held = Math.max(held, peer.buffered.lastKey());
                }
            }
            PeerLogReader.Batch batch = peer.reader.read(held);
            synchronized (peers) {
                for (Envelope e : batch.envelopes()) {
                    peer.buffered.put(e.seq(), e);
                }
                SiteHead head = batch.head();
                if (head != null) {
                    peer.headSeq = head.lastSeq();
                }
                peer.lastExchangeMillis = now;
                peer.lastError = null;
            }
            moved = !batch.envelopes().isEmpty();
            applyReady();
            if (batch.more()) {
                peer.nextPollMillis = now;
                return;
            }
        } catch (StoreException | RuntimeException e) {
            synchronized (peers) {
                if (!e.getMessage().equals(peer.lastError)) {
                    LOG.warn("reading site {}'s log failed: {}", peer.record.name(), e.getMessage());
                }
                peer.lastError = e.getMessage();
            }
        }
        peer.schedule.polled(moved);
        peer.nextPollMillis = wallMillis.getAsLong() + peer.schedule.delayMillis();
    }

    /**
     * Applies every buffered envelope whose causes are applied, until none is: envelopes of several
     * peers may wait for each other (a peer's operation on a file another peer created).
     */
    void applyReady() {
        boolean progress = true;
        while (progress) {
            progress = false;
            List<Envelope> candidates = new ArrayList<>();
            synchronized (peers) {
                for (Peer p : peers.values()) {
                    if (!p.buffered.isEmpty()) {
                        candidates.add(p.buffered.firstEntry().getValue());
                    }
                }
            }
            for (Envelope e : candidates) {
                boolean applied = false;
                boolean stale = false;
                synchronized (replica) {
                    if (e.seq() <= replica.cursors().getOrDefault(e.site(), 0L)) {
                        stale = true;
                    } else if (replica.ready(e)) {
                        hooks.applier().apply(List.of(e));
                        applied = true;
                    }
                }
                if (applied || stale) {
                    synchronized (peers) {
                        peers.get(e.site()).buffered.remove(e.seq());
                    }
                    progress = true;
                }
                if (applied && e.op() instanceof Op.Write w) {
                    synchronized (wanted) {
                        w.content().blocks().forEach(b -> wanted.add(b.ref()));
                        wanted.notifyAll();
                    }
                }
            }
        }
    }

    private void refreshPeers() {
        lastRefresh = wallMillis.getAsLong();
        SiteRegistry.View view;
        try {
            view = registry.refresh();
        } catch (StoreException e) {
            LOG.warn("cannot refresh the list of sites: {}", e.getMessage());
            return;
        }
        for (String problem : view.problems()) {
            LOG.warn("sites: {}", problem);
        }
        for (SiteRecord r : view.sites().values()) {
            if (r.name().equals(self)) {
                continue;
            }
            synchronized (peers) {
                if (peers.containsKey(r.name())) {
                    continue;
                }
            }
            try {
                List<ObjectStore> stores = peerStores.open(r);
                synchronized (peers) {
                    peers.put(r.name(), new Peer(r, stores, options.maxSegmentsPerRead(), wallMillis));
                }
                LOG.info("sync: following site {} ({})", r.name(), r.describe());
            } catch (StoreException | RuntimeException e) {
                LOG.warn("cannot reach site {}'s storage yet: {}", r.name(), e.getMessage());
            }
        }
    }

    // ---- blocks -------------------------------------------------------------------------------

    private void copyLoop() {
        while (running) {
            List<BlockRef> batch;
            synchronized (wanted) {
                if (wanted.isEmpty()) {
                    waitOn(wanted, options.retryMillis());
                    continue;
                }
                batch = new ArrayList<>(wanted);
            }
            List<ObjectStore> sources = new ArrayList<>();
            synchronized (peers) {
                peers.values().forEach(p -> sources.addAll(p.stores));
            }
            try {
                BlockCopier.Summary s = copier.copy(batch, sources, outcome -> {
                    if (outcome.result() == BlockCopier.Result.COPIED || outcome.result() == BlockCopier.Result.PRESENT) {
                        synchronized (wanted) {
                            wanted.remove(outcome.block());
                        }
                    }
                });
                if (s.waiting() + s.failed() > 0) {
                    synchronized (wanted) {
                        waitOn(wanted, options.retryMillis());
                    }
                }
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    // ---- status -------------------------------------------------------------------------------

    /** Per peer, in name order. */
    public List<PeerStatus> status() {
        Map<String, Long> cursors;
        synchronized (replica) {
            cursors = replica.cursors();
        }
        List<PeerStatus> out = new ArrayList<>();
        synchronized (peers) {
            for (Peer p : peers.values()) {
                String name = p.record.name();
                out.add(new PeerStatus(name, cursors.getOrDefault(name, 0L), p.headSeq, p.buffered.size(),
                        p.lastExchangeMillis, p.lastError));
            }
        }
        return out;
    }

    /** Blocks named by applied operations that this site's own storage may not hold yet. */
    public int wantedBlocks() {
        synchronized (wanted) {
            return wanted.size();
        }
    }

    /** The last error publishing this site's own log, or null. */
    public String publishError() {
        return publishError;
    }

    public BlockCopier.Progress copyProgress() {
        return copier.progress();
    }

    private static void waitOn(Object monitor, long millis) {
        try {
            monitor.wait(Math.max(1, millis));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops the loops; the publisher makes one last pass so what this site did is on its storage. */
    @Override
    public void close() {
        running = false;
        synchronized (wake) {
            wake.notifyAll();
        }
        synchronized (wanted) {
            wanted.notifyAll();
        }
        for (Thread t : threads) {
            if (t.getName().endsWith("copy")) {
                t.interrupt();
            }
        }
        for (Thread t : threads) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
