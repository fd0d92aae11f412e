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
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A site's sync daemon: publishes this site's log to each of its own targets, polls every peer's
 * log from the peer's storage, brings the blocks of the peers' writes into this site's own storage
 * and then applies the peers' operations in causal order. Peers come from the registry, refreshed
 * now and then, so a site that joins later is found without a restart.
 *
 * <p>Two threads: the publisher (woken by {@link #localChange} when idle, else every publish interval) and
 * the poller (one loop over all peers, each on its own adaptive {@link PollSchedule}), which also
 * copies blocks and applies. A peer's Write is applied only once every block it names is in this
 * site's own storage, so every site can read every file from its own storage even when the peer is
 * gone; a Write whose blocks are not there yet waits, with what comes after it from its site or
 * depends on it, and is tried again after the next poll. Copying happens outside every lock.
 *
 * <p>Applying goes through {@link Hooks#applier}, in batches of at most {@value #MAX_BATCH} envelopes
 * in a causal order, so the mount can update its namespace in the same LMDB transaction as the
 * replica. Lock order: the replica's monitor, then whatever the applier takes. The monitor of
 * {@code peers} is only ever taken alone. The replica is single-threaded: every call on it here holds
 * its monitor, and so must every other caller (the mount).
 *
 * <p>Nothing missing turns into a delete: a peer whose storage is empty or unreachable simply has
 * nothing new to apply, and only operations its own log names are ever applied. A burst of removals
 * from one peer (more than {@link Options#maxDeleteShare} of the names shown, and at least
 * {@link Options#minDeletes}) is held until released with {@link #releaseHold}, as rclone bisync's
 * --max-delete does: a site that lost its files by mistake must not empty every other site.
 */
public final class SiteDaemon implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SiteDaemon.class);

    /** Envelopes handed to the applier at once: one LMDB transaction of bounded size. */
    public static final int MAX_BATCH = 500;

    /**
     * Timing of the daemon's loops and the delete-burst guard; {@link #DEFAULTS} is what a mount uses.
     * A peer's pending envelopes are held when they would remove at least {@code minDeletes} names and
     * more than {@code maxDeleteShare} of the names shown.
     */
    public record Options(long publishIntervalMillis, long registryRefreshMillis, int maxSegmentsPerRead, long retryMillis,
                          double maxDeleteShare, int minDeletes) {
        public static final double DEFAULT_MAX_DELETE_SHARE = 0.5;
        public static final int DEFAULT_MIN_DELETES = 50;
        public static final Options DEFAULTS = new Options(100, 60_000, 64, 1_000);

        public Options {
            if (publishIntervalMillis < 1 || registryRefreshMillis < 1 || retryMillis < 1 || maxSegmentsPerRead < 1) {
                throw new IllegalArgumentException("the sync daemon needs intervals of at least 1 ms and at least one segment per read");
            }
            if (!(maxDeleteShare > 0 && maxDeleteShare <= 1)) {
                throw new IllegalArgumentException("the share of names a peer may delete at once must be above 0% and at most 100%, not "
                        + Math.round(maxDeleteShare * 100) + "%");
            }
            if (minDeletes < 1) {
                throw new IllegalArgumentException("the delete-burst guard needs a minimum of at least 1 deletion, not " + minDeletes);
            }
        }

        /** The given timing with the default delete-burst guard. */
        public Options(long publishIntervalMillis, long registryRefreshMillis, int maxSegmentsPerRead, long retryMillis) {
            this(publishIntervalMillis, registryRefreshMillis, maxSegmentsPerRead, retryMillis,
                    DEFAULT_MAX_DELETE_SHARE, DEFAULT_MIN_DELETES);
        }
    }

    /**
     * One peer as status shows it. {@code headSeq} is -1 before its head was read; {@code bytesBehind}
     * sums the content sizes of its buffered, unapplied Writes; {@code blocksWaiting} counts the blocks
     * of its Writes that could not be copied into this site's storage on the last try; {@code held}
     * says why its envelopes are held (a delete burst), or is null.
     */
    public record PeerStatus(String site, long applied, long headSeq, int buffered, long lastExchangeMillis, String lastError,
                             long bytesBehind, int blocksWaiting, String held) {
        /** Operations the peer has published that this site has not applied. */
        public long behind() {
            return headSeq < 0 ? 0 : Math.max(0, headSeq - applied);
        }
    }

    /**
     * Applies envelopes in the given order; each is ready once those before it are applied. All or
     * nothing: a throw means none of the batch was applied.
     */
    public interface Applier {
        void apply(List<Envelope> batch);
    }

    /**
     * How the daemon applies and what it may publish yet (the mount: a Write whose blocks are all
     * uploaded to this site's own storage). The applier is called with the replica's monitor held;
     * {@code publishable} without it, by the publisher thread.
     */
    public record Hooks(Applier applier, Predicate<Envelope> publishable) {
        public Hooks {
            if (applier == null || publishable == null) {
                throw new IllegalArgumentException("the sync daemon's hooks need an applier and a publishable test");
            }
        }

        /**
         * Applies straight to the replica, one envelope after the other, and publishes everything. Not
         * all or nothing: a refusal leaves the envelopes before it applied, which the daemon allows for
         * by skipping applied envelopes when it retries one at a time.
         */
        public static Hooks direct(Replica replica) {
            return new Hooks(batch -> batch.forEach(replica::apply), e -> true);
        }
    }

    private final Replica replica;
    private final String self;
    private final List<ObjectStore> own;
    private final SiteRegistry registry;
    private final SiteRegistry.PeerStores peerStores;
    private final BlockCopier copier;
    private final LongSupplier wallMillis;
    private final Options options;
    private final Hooks hooks;
    private final List<LogPublisher> publishers = new ArrayList<>();
    private final Map<String, Peer> peers = new TreeMap<>();
    private final Object wake = new Object();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running;
    private volatile String publishError;
    /** Local operations so far: {@link #localChange} counts, the loops compare with what they last saw. */
    private final AtomicLong localChanges = new AtomicLong();
    /** The publisher waits for a local change (not out its publish interval): the next change wakes it. */
    private volatile boolean publisherIdle;
    /** How often a local change woke the publisher (tests: a burst must not wake it per change). */
    private long publisherWakeUps;
    /** The local change count the poller last turned into activity of every peer's schedule. */
    private long pollerSeen;
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
        /** Why an envelope of this peer was refused; once set, nothing more of it is read or applied. */
        String refusal;
        /** The delete-burst sentence while its envelopes are held, else null. */
        String held;
        /** Buffered envelopes up to this position pass the delete-burst guard (released by the user). */
        long releasedThrough;
        int blocksWaiting;

        Peer(SiteRecord record, List<ObjectStore> stores, int maxSegments, LongSupplier wallMillis) {
            this.record = record;
            this.stores = stores;
            this.reader = new PeerLogReader(stores.get(0), record.name(), maxSegments);
            this.schedule = new PollSchedule(wallMillis);
        }

        String name() {
            return record.name();
        }
    }

    /** A daemon that applies straight to the replica ({@link Hooks#direct}). */
    public SiteDaemon(Replica replica, List<ObjectStore> own, SiteRegistry registry, SiteRegistry.PeerStores peerStores,
                      BlockCopier copier, LongSupplier wallMillis, Options options) {
        this(replica, own, registry, peerStores, copier, wallMillis, options, Hooks.direct(replica));
    }

    public SiteDaemon(Replica replica, List<ObjectStore> own, SiteRegistry registry, SiteRegistry.PeerStores peerStores,
                      BlockCopier copier, LongSupplier wallMillis, Options options, Hooks hooks) {
        this.replica = replica;
        this.self = replica.site();
        this.own = List.copyOf(own);
        this.registry = registry;
        this.peerStores = peerStores;
        this.copier = copier;
        this.wallMillis = wallMillis;
        this.options = options;
        this.hooks = hooks;
        for (ObjectStore target : own) {
            publishers.add(new LogPublisher(target, self, wallMillis));
        }
    }

    /**
     * Catches up with this site's own log as its storage holds it (a cache restored from an older
     * copy must not reuse log positions), then starts the loops.
     */
    public void start() throws StoreException {
        catchUpOwnLog();
        refreshPeers();
        catchUpPeersForOwnLog();
        running = true;
        startThread("stratafs-sync-publish", this::publishLoop);
        startThread("stratafs-sync-poll", this::pollLoop);
    }

    private void startThread(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    /** Own envelopes need no copying: this site published them only once their blocks were in its own storage. */
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
            boolean progress;
            do {
                long cursor;
                synchronized (replica) {
                    cursor = replica.cursors().getOrDefault(self, 0L);
                }
                batch = reader.read(cursor);
                progress = false;
                synchronized (replica) {
                    List<Envelope> ready = new CausalBatch(replica.cursors()).offerAll(batch.envelopes());
                    for (int from = 0; from < ready.size(); from += MAX_BATCH) {
                        List<Envelope> part = ready.subList(from, Math.min(ready.size(), from + MAX_BATCH));
                        List<Refusal> refusals = applyLocked(part);
                        if (!refusals.isEmpty()) {
                            Refusal refused = refusals.get(0);
                            throw new IllegalStateException("this site's own operation " + refused.what() + ", read back from "
                                    + target.describe() + ", cannot be applied to its state: " + refused.why()
                                    + " (the daemon does not start, so that this site never reuses a position of its log)");
                        }
                        progress = true;
                    }
                }
            } while (batch.more() && progress);
        }
    }

    /**
     * A state restored from an older copy may lack peers' operations that this site's own published
     * operations depend on: those then wait in the own-log catch-up. Reads the peers until the own
     * log is caught up; refuses to start (the caller retries) when it cannot, since a new local
     * operation would then take a position of the log that is already published.
     */
    private void catchUpPeersForOwnLog() throws StoreException {
        for (int round = 0; round < 64 && behindOwnLog() != null; round++) {
            List<Peer> all;
            synchronized (peers) {
                all = new ArrayList<>(peers.values());
            }
            long before = replica.cursors().values().stream().mapToLong(Long::longValue).sum();
            for (Peer p : all) {
                poll(p);
            }
            catchUpOwnLog();
            if (replica.cursors().values().stream().mapToLong(Long::longValue).sum() == before) {
                break;
            }
        }
        String behind = behindOwnLog();
        if (behind != null) {
            throw new StoreException(behind + ", and the operations of other sites they depend on cannot be read yet");
        }
    }

    /**
     * Why this site's state is behind its own published log, or null when it is not; from how far
     * each target's log went when {@link #catchUpOwnLog} last recovered it (no request of its own).
     */
    private String behindOwnLog() {
        long mine;
        synchronized (replica) {
            mine = replica.cursors().getOrDefault(self, 0L);
        }
        for (int i = 0; i < own.size(); i++) {
            long published = publishers.get(i).published();
            if (published > mine) {
                return own.get(i).describe() + " holds this site's log up to operation " + published + " but its state only up to "
                        + mine;
            }
        }
        return null;
    }

    /**
     * Tells the daemon that this site made an operation: an idle publisher publishes at once rather
     * than at its next interval, and the peers are polled fast from their next poll on. Called by
     * every local change, on the caller's thread (the mount calls it from FUSE requests), so it costs
     * a counter and, at most once per idle spell of the publisher, a wake-up. Waking the publisher
     * and the poller on every change cost two context switches per removed file, each to find
     * nothing to do: the publisher publishes at most once per interval while busy, and the poller's
     * next poll was due when it was anyway (a change speeds up the polls after it, see
     * {@link #noteLocalChanges}).
     */
    public void localChange() {
        localChanges.incrementAndGet();
        if (publisherIdle) {
            synchronized (wake) {
                if (publisherIdle) {
                    publisherIdle = false;
                    publisherWakeUps++;
                    wake.notifyAll();
                }
            }
        }
    }

    /** How often {@link #localChange} woke the idle publisher. */
    long publisherWakeUps() {
        synchronized (wake) {
            return publisherWakeUps;
        }
    }

    // ---- publishing ---------------------------------------------------------------------------

    /**
     * Publishes at once after a quiet spell, but at most once per publish interval while changes keep
     * coming: every pass costs a segment and a head object in each own target (two fsyncs each on a
     * local directory) and a sync of the write-ahead file, and a copy of 5,000 small files woke the
     * publisher for every few operations (6,600 segments for 30,000 operations, a quarter of the
     * daemon's CPU). Peers see a change at most one interval later than they would otherwise.
     */
    private void publishLoop() {
        long seen = -1;
        long lastPublished = Long.MIN_VALUE;
        while (running) {
            long started = System.nanoTime();
            long before = published();
            publishOnce();
            if (published() != before) {
                lastPublished = started;
            }
            synchronized (wake) {
                if (seen == localChanges.get() && running) {
                    // idle: armed before the count is read again, so a change either shows in the
                    // count or finds the flag set and wakes this wait (both are volatile)
                    publisherIdle = true;
                    if (seen == localChanges.get()) {
                        waitOn(wake, publishError == null ? options.publishIntervalMillis() : options.retryMillis());
                    }
                    publisherIdle = false;
                }
                long gap = TimeUnit.MILLISECONDS.toNanos(options.publishIntervalMillis());
                while (running && lastPublished != Long.MIN_VALUE && System.nanoTime() - lastPublished < gap) {
                    waitOn(wake, Math.max(1, TimeUnit.NANOSECONDS.toMillis(gap - (System.nanoTime() - lastPublished))));
                }
                seen = localChanges.get();
            }
        }
        publishOnce();
    }

    /** The sum of how far each own target's log goes, to tell whether a pass published anything. */
    private long published() {
        long sum = 0;
        for (LogPublisher p : publishers) {
            sum += p.published();
        }
        return sum;
    }

    /**
     * Publishes to every own target what it lacks of this site's log, up to the first envelope the
     * hooks say may not be published yet; returns whether all targets succeeded.
     */
    boolean publishOnce() {
        boolean ok = true;
        boolean retry = publishError != null;
        for (LogPublisher p : publishers) {
            try {
                // The publisher knows how far its target goes once it recovered; reading the head and
                // listing again on every pass would cost two requests per pass while idle.
                long from = p.published() < 0 || retry ? p.recover() : p.published();
                while (true) {
                    // Only the publishable prefix is decoded, MAX_BATCH at a time: while the log's next
                    // Write waits for its blocks to be uploaded, every local change wakes this loop, and
                    // decoding the whole unpublished tail each time made a copy of 5,000 small files
                    // spend 30% of the daemon's CPU here (JFR, issue 9).
                    List<Envelope> batch;
                    synchronized (replica) {
                        batch = replica.logWhile(from, MAX_BATCH, hooks.publishable());
                    }
                    if (batch.isEmpty()) {
                        break;
                    }
                    // durable here first: a power loss must not lose a published position locally, to reuse it
                    replica.sync();
                    p.publish(batch);
                    if (batch.size() < MAX_BATCH) {
                        break;
                    }
                    from = batch.get(batch.size() - 1).seq();
                }
            } catch (StoreException | RuntimeException e) {
                ok = false;
                if (!String.valueOf(e.getMessage()).equals(publishError)) {
                    LOG.warn("publishing this site's log failed, retrying: {}", e.getMessage());
                }
                publishError = String.valueOf(e.getMessage());
            }
        }
        if (ok) {
            publishError = null;
        }
        return ok;
    }

    // ---- polling ------------------------------------------------------------------------------

    private void pollLoop() {
        while (running) {
            long now = wallMillis.getAsLong();
            if (now - lastRefresh >= options.registryRefreshMillis()) {
                refreshPeers();
            }
            Peer due = null;
            synchronized (peers) {
                for (Peer p : peers.values()) {
                    if (p.refusal == null && (due == null || p.nextPollMillis < due.nextPollMillis)) {
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
            noteLocalChanges();
            poll(due);
        }
    }

    /**
     * Turns the local changes made since the last poll into activity of every peer's schedule, so
     * the interval after this poll is the busy one: here, just before the poll, rather than in
     * {@link #localChange}, so a change takes no lock of the poller's; a schedule's activity only
     * counts when a poll ends.
     */
    private void noteLocalChanges() {
        long changes = localChanges.get();
        if (changes != pollerSeen) {
            pollerSeen = changes;
            synchronized (peers) {
                peers.values().forEach(p -> p.schedule.activity());
            }
        }
    }

    /**
     * Reads what one peer published since what this site holds of its log, and applies what is
     * ready. A poll that found something is followed at once by another: a burst arrives without
     * waiting a poll interval per segment batch.
     */
    void poll(Peer peer) {
        long now = wallMillis.getAsLong();
        boolean moved = false;
        boolean more = false;
        try {
            long held;
            synchronized (replica) {
                held = replica.cursors().getOrDefault(peer.name(), 0L);
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
            more = batch.more();
            applyReady();
        } catch (StoreException | RuntimeException e) {
            synchronized (peers) {
                if (!String.valueOf(e.getMessage()).equals(peer.lastError)) {
                    LOG.warn("reading site {}'s log failed: {}", peer.name(), e.getMessage());
                }
                peer.lastError = String.valueOf(e.getMessage());
            }
        }
        peer.schedule.polled(moved);
        peer.nextPollMillis = moved || more ? wallMillis.getAsLong() : wallMillis.getAsLong() + peer.schedule.delayMillis();
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

    // ---- applying -----------------------------------------------------------------------------

    /**
     * Applies every buffered envelope that is ready, in batches: each batch is gathered in a causal
     * order, the blocks of its Writes are copied into this site's storage (outside every lock), and
     * what remains ready without the Writes whose blocks are missing is applied. A site whose Write
     * waits for blocks contributes nothing more in this call.
     */
    void applyReady() {
        Set<String> held = judgeDeleteBursts();
        Map<String, Long> waitingAt = new HashMap<>();
        Map<String, Integer> blocksWaiting = new HashMap<>();
        while (true) {
            List<Envelope> candidates = gather(held, waitingAt);
            if (candidates.isEmpty()) {
                break;
            }
            Set<Envelope> blocked = copyBlocks(candidates, blocksWaiting);
            List<Envelope> batch = new ArrayList<>();
            List<Refusal> refusals = List.of();
            synchronized (replica) {
                CausalBatch ready = new CausalBatch(replica.cursors());
                for (Envelope e : candidates) {
                    if (blocked.contains(e)) {
                        waitingAt.merge(e.site(), e.seq(), Math::min);
                    } else if (ready.offer(e)) {
                        batch.add(e);
                    }
                }
                if (!batch.isEmpty()) {
                    refusals = applyLocked(batch);
                }
            }
            refusals.forEach(this::refuse);
            if (forget(batch) == 0) {
                break; // nothing applied: every candidate waits for blocks, or was refused
            }
        }
        synchronized (peers) {
            for (Peer p : peers.values()) {
                p.blocksWaiting = blocksWaiting.getOrDefault(p.name(), 0); // a peer with no write to copy waits for none
            }
        }
    }

    /**
     * Up to {@value #MAX_BATCH} buffered envelopes in an order in which each is ready once those before
     * it are applied; none from a refused or {@code held} peer, nor from a site at or after its Write
     * that waits for blocks. Drops buffered envelopes that are already applied.
     */
    private List<Envelope> gather(Set<String> held, Map<String, Long> waitingAt) {
        Map<String, List<Envelope>> pending = pendingByPeer();
        held.forEach(pending::remove);
        waitingAt.forEach((site, stopAt) -> {
            List<Envelope> envelopes = pending.get(site);
            if (envelopes != null) {
                envelopes.removeIf(e -> e.seq() >= stopAt);
            }
        });
        List<Envelope> out = new ArrayList<>();
        List<Envelope> stale = new ArrayList<>();
        synchronized (replica) {
            Map<String, Long> cursors = replica.cursors();
            for (List<Envelope> envelopes : pending.values()) {
                envelopes.removeIf(e -> e.seq() <= cursors.getOrDefault(e.site(), 0L) && stale.add(e));
            }
            CausalBatch batch = new CausalBatch(cursors);
            boolean progress = true;
            while (progress && out.size() < MAX_BATCH) {
                progress = false;
                for (List<Envelope> envelopes : pending.values()) {
                    while (!envelopes.isEmpty() && out.size() < MAX_BATCH && batch.offer(envelopes.get(0))) {
                        out.add(envelopes.remove(0));
                        progress = true;
                    }
                }
            }
        }
        forget(stale);
        return out;
    }

    /** Per peer that is not refused, its buffered envelopes in log order (a copy). */
    private Map<String, List<Envelope>> pendingByPeer() {
        Map<String, List<Envelope>> pending = new TreeMap<>();
        synchronized (peers) {
            for (Peer p : peers.values()) {
                if (p.refusal == null && !p.buffered.isEmpty()) {
                    pending.put(p.name(), new ArrayList<>(p.buffered.values()));
                }
            }
        }
        return pending;
    }

    /**
     * The peers whose pending envelopes the delete-burst guard holds, judged once per
     * {@link #applyReady} on what each has buffered past what the user released; sets or clears each
     * peer's {@code held} sentence to match.
     */
    private Set<String> judgeDeleteBursts() {
        Map<String, List<Envelope>> judged = new TreeMap<>();
        Map<String, Long> releasedThrough = new HashMap<>();
        synchronized (peers) {
            for (Peer p : peers.values()) {
                List<Envelope> after = new ArrayList<>(p.buffered.tailMap(p.releasedThrough, false).values());
                if (p.refusal == null && !after.isEmpty()) {
                    judged.put(p.name(), after);
                }
                releasedThrough.put(p.name(), p.releasedThrough);
            }
        }
        Map<String, String> sentences = new HashMap<>();
        synchronized (replica) {
            judged.forEach((site, envelopes) -> {
                String sentence = holdSentence(site, envelopes);
                if (sentence != null) {
                    sentences.put(site, sentence);
                }
            });
        }
        Set<String> held = new HashSet<>();
        synchronized (peers) {
            for (Peer p : peers.values()) {
                if (!releasedThrough.containsKey(p.name()) || releasedThrough.get(p.name()) != p.releasedThrough) {
                    continue; // released (or new) while judged: judged afresh on the next call
                }
                String sentence = sentences.get(p.name());
                if (sentence != null && p.held == null) {
                    LOG.warn("sync: {}", sentence);
                }
                p.held = sentence;
                if (sentence != null) {
                    held.add(p.name());
                }
            }
        }
        return held;
    }

    /**
     * What status says while {@code envelopes} of {@code site} are held as a delete burst, or null if
     * they may be applied. liveNames walks the whole tree, so it is computed only once the removals
     * reach the minimum. Called with the replica's monitor held.
     */
    private String holdSentence(String site, List<Envelope> envelopes) {
        int removals = replica.removals(envelopes);
        if (removals < options.minDeletes()) {
            return null;
        }
        long names = replica.liveNames();
        if (removals <= options.maxDeleteShare() * names) {
            return null;
        }
        return String.format("holding %,d deletions from site %s (%d%% of %,d names; --max-delete %d%%): "
                        + "if they are meant, release them with `stratafs release-deletes MOUNTPOINT %s`",
                removals, site, Math.round(100.0 * removals / Math.max(1, names)), names,
                Math.round(options.maxDeleteShare() * 100), site);
    }

    /**
     * Copies the blocks of the candidates' Writes that this site's own storage lacks, from the
     * author's storage first, then the other peers'. Returns the Writes whose blocks are not all
     * there yet, and counts their blocks per author in {@code blocksWaiting} and in the author's status.
     */
    private Set<Envelope> copyBlocks(List<Envelope> candidates, Map<String, Integer> blocksWaiting) {
        Map<String, List<Envelope>> writesBySite = new LinkedHashMap<>();
        for (Envelope e : candidates) {
            if (e.op() instanceof Op.Write w && !w.content().blocks().isEmpty()) {
                writesBySite.computeIfAbsent(e.site(), s -> new ArrayList<>()).add(e);
            }
        }
        Set<Envelope> blocked = new HashSet<>();
        for (Map.Entry<String, List<Envelope>> site : writesBySite.entrySet()) {
            List<BlockRef> wanted = new ArrayList<>();
            for (Envelope e : site.getValue()) {
                ((Op.Write) e.op()).content().blocks().forEach(b -> wanted.add(b.ref()));
            }
            Set<String> there = new HashSet<>();
            try {
                copier.copy(wanted, sourcesFor(site.getKey()), outcome -> {
                    if (outcome.result() == BlockCopier.Result.COPIED || outcome.result() == BlockCopier.Result.PRESENT) {
                        there.add(outcome.block().hex());
                    }
                });
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            Set<String> missing = new HashSet<>();
            for (Envelope e : site.getValue()) {
                for (Manifest.Block b : ((Op.Write) e.op()).content().blocks()) {
                    if (!there.contains(b.ref().hex())) {
                        missing.add(b.ref().hex());
                        blocked.add(e);
                    }
                }
            }
            int waiting = blocksWaiting.merge(site.getKey(), missing.size(), Integer::sum);
            synchronized (peers) {
                Peer p = peers.get(site.getKey());
                if (p != null) {
                    p.blocksWaiting = waiting; // before the apply: status never shows an applied write's blocks as waiting
                }
            }
        }
        return blocked;
    }

    /** The stores to copy a site's blocks from: its own first (it wrote them), then every other peer's. */
    private List<ObjectStore> sourcesFor(String author) {
        List<ObjectStore> sources = new ArrayList<>();
        synchronized (peers) {
            Peer p = peers.get(author);
            if (p != null) {
                sources.addAll(p.stores);
            }
            peers.values().stream().filter(q -> !q.name().equals(author)).forEach(q -> sources.addAll(q.stores));
        }
        return sources;
    }

    /** An envelope the applier refused: which one, and its message. */
    private record Refusal(String site, String what, String why) {
    }

    /**
     * Hands {@code batch} to the applier; if it refuses, applies the envelopes one at a time to find
     * the refused one and applies all the others that stay ready without it (a site stops at its
     * refused envelope). Returns the refusals, one per stopped site. Called with the replica's monitor held.
     */
    private List<Refusal> applyLocked(List<Envelope> batch) {
        try {
            hooks.applier().apply(batch);
            return List.of();
        } catch (RuntimeException whole) {
            List<Refusal> refusals = new ArrayList<>();
            Set<String> stopped = new HashSet<>();
            for (Envelope e : batch) {
                if (stopped.contains(e.site()) || e.seq() <= replica.cursors().getOrDefault(e.site(), 0L) || !replica.ready(e)) {
                    continue; // applied by a partial applier before it threw, or waiting for what was refused
                }
                try {
                    hooks.applier().apply(List.of(e));
                } catch (RuntimeException one) {
                    stopped.add(e.site());
                    refusals.add(new Refusal(e.site(), e.site() + "#" + e.seq() + " (" + e.op().getClass().getSimpleName() + ")",
                            String.valueOf(one.getMessage())));
                }
            }
            return refusals;
        }
    }

    private void refuse(Refusal r) {
        String sentence = "site " + r.site() + "'s operation " + r.what() + " cannot be applied here: " + r.why()
                + "; nothing more from site " + r.site() + " is applied until this daemon is restarted";
        LOG.error("sync: {}", sentence);
        synchronized (peers) {
            Peer p = peers.get(r.site());
            if (p != null) {
                p.refusal = sentence;
            }
        }
    }

    /** Drops applied (or already applied) envelopes from their peers' buffers; returns how many. */
    private int forget(List<Envelope> envelopes) {
        if (envelopes.isEmpty()) {
            return 0;
        }
        int dropped = 0;
        Map<String, Long> cursors;
        synchronized (replica) {
            cursors = replica.cursors();
        }
        synchronized (peers) {
            for (Envelope e : envelopes) {
                Peer p = peers.get(e.site());
                if (p != null && e.seq() <= cursors.getOrDefault(e.site(), 0L) && p.buffered.remove(e.seq()) != null) {
                    dropped++;
                }
            }
        }
        return dropped;
    }

    /**
     * Lets the pending envelopes of {@code peer} through the delete-burst guard once: what is buffered
     * now (the current burst) is applied at the next poll; later removals are judged afresh.
     */
    public void releaseHold(String peer) {
        synchronized (peers) {
            Peer p = peers.get(peer);
            if (p == null) {
                throw new IllegalArgumentException("this site does not follow a site named " + peer + " (sites followed: "
                        + String.join(", ", peers.keySet()) + ")");
            }
            if (!p.buffered.isEmpty()) {
                p.releasedThrough = Math.max(p.releasedThrough, p.buffered.lastKey());
            }
            p.held = null;
            p.nextPollMillis = wallMillis.getAsLong();
            LOG.info("sync: deletions from site {} released up to its operation {}", peer, p.releasedThrough);
        }
        synchronized (wake) {
            wake.notifyAll();
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
                long bytesBehind = 0;
                for (Envelope e : p.buffered.values()) {
                    if (e.op() instanceof Op.Write w && e.seq() > cursors.getOrDefault(p.name(), 0L)) {
                        bytesBehind += w.content().size();
                    }
                }
                out.add(new PeerStatus(p.name(), cursors.getOrDefault(p.name(), 0L), p.headSeq, p.buffered.size(),
                        p.lastExchangeMillis, p.refusal != null ? p.refusal : p.lastError, bytesBehind, p.blocksWaiting, p.held));
            }
        }
        return out;
    }

    /** The last error publishing this site's own log, or null. */
    public String publishError() {
        return publishError;
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
        for (Thread t : threads) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
