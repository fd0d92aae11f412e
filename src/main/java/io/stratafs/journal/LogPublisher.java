package io.stratafs.journal;

import io.stratafs.store.ObjectExistsException;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import io.stratafs.sync.Envelope;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Publishes this site's log to one of its storage targets: each batch of envelopes becomes one
 * segment, created conditionally so nothing on storage is ever replaced, then the site's head is
 * updated. A segment already there with the same bytes is this site's own retried upload; with other
 * bytes, or a head beyond what this publisher wrote, another writer uses this site's name, and the
 * publisher stops ({@link SiteNameTakenException}) rather than fork the log. Envelopes offered again
 * after a restart are compared with the published ones for the same reason. One publisher per
 * target; its methods are serialized.
 *
 * <p>Requests per batch: one GET (head), two PUTs (segment, head). Batching is the caller's choice;
 * it bounds both the request rate and the segment size.
 */
public final class LogPublisher {
    private final ObjectStore store;
    private final String site;
    private final LongSupplier wallMillis;
    private long published = -1;
    private SiteNameTakenException refused;

    /** {@code wallMillis}: the wall clock, only written into the head for operators to read. */
    public LogPublisher(ObjectStore store, String site, LongSupplier wallMillis) {
        this.store = store;
        this.site = site;
        this.wallMillis = wallMillis;
    }

    /**
     * Finds how far this site's log on the target goes (head, then a listing of what follows it),
     * and rewrites a head left behind by a crash between a segment and its head. Called by the first
     * {@link #publish}; callers may call it earlier to learn {@link #published()}.
     */
    public synchronized long recover() throws StoreException {
        SiteHead head = readHead();
        String prefix = ObjectKeys.opLogPrefix(site);
        List<LogSegments.Range> segments = LogSegments.segmentsIn(head == null ? store.list(prefix)
                : store.listAfter(prefix, ObjectKeys.opLogSegment(site, head.lastSeq(), -1L)));
        long last = head == null ? 0 : head.lastSeq();
        LogSegments.Range newest = null;
        for (LogSegments.Range r : segments) {
            if (r.first() != last + 1) {
                throw new LogIntegrityException("site " + site + "'s log in " + store.describe() + " does not continue at "
                        + (last + 1) + ": the next segment is " + r.key());
            }
            last = r.last();
            newest = r;
        }
        if (newest != null) {
            List<Envelope> tail = LogSegments.decode(store.get(newest.key()), newest.key());
            Envelope end = tail.get(tail.size() - 1);
            new SiteHead(end.seq(), newest.first(), end.op().id().hlc(), wallMillis.getAsLong()).write(store, site);
        }
        published = last;
        return last;
    }

    /** The last sequence known to be on the target (-1 before {@link #recover}). */
    public synchronized long published() {
        return published;
    }

    /**
     * Publishes the envelopes of {@code batch} (this site's, consecutive) that the target lacks, as
     * one segment, and returns its key; null when the target already had them all (a batch offered
     * again after a crash, or after an attempt whose answer was lost). A batch that starts beyond the next sequence is refused: the target
     * would have a gap.
     */
    public synchronized String publish(List<Envelope> batch) throws StoreException {
        if (refused != null) {
            throw refused;
        }
        LogSegments.key(batch);
        if (!batch.get(0).site().equals(site)) {
            throw new IllegalArgumentException("site " + site + " cannot publish site " + batch.get(0).site() + "'s envelopes");
        }
        if (published < 0) {
            recover();
        }
        List<Envelope> repeated = batch.stream().filter(e -> e.seq() <= published).toList();
        if (!repeated.isEmpty()) {
            checkPublished(repeated);
        }
        List<Envelope> fresh = batch.stream().filter(e -> e.seq() > published).toList();
        if (fresh.isEmpty()) {
            return null;
        }
        if (fresh.get(0).seq() != published + 1) {
            throw new IllegalArgumentException("site " + site + "'s log on " + store.describe() + " ends at " + published
                    + ", so a batch starting at " + fresh.get(0).seq() + " would leave a gap");
        }
        SiteHead head = readHead();
        if (head != null && head.lastSeq() > published) {
            adoptLostAttempt(fresh, head);
            fresh = fresh.stream().filter(e -> e.seq() > published).toList();
            if (fresh.isEmpty()) {
                return null;
            }
        }
        String key = LogSegments.key(fresh);
        byte[] bytes = LogSegments.encode(fresh);
        try {
            store.create(key, bytes);
        } catch (ObjectExistsException e) {
            if (!Arrays.equals(store.get(key), bytes)) {
                throw refuse(key + " already holds other operations");
            }
        }
        Envelope last = fresh.get(fresh.size() - 1);
        new SiteHead(last.seq(), fresh.get(0).seq(), last.op().id().hlc(), wallMillis.getAsLong()).write(store, site);
        published = last.seq();
        return key;
    }

    /**
     * Envelopes offered again (after a restart) must be the ones on the target: a site whose state is
     * older than its published log would otherwise reuse sequence numbers for other operations.
     * Costs reading those segments once, only when a batch overlaps what is published.
     */
    private void checkPublished(List<Envelope> repeated) throws StoreException {
        long from = repeated.get(0).seq();
        List<Envelope> stored = new PeerLogReader(store, site, Integer.MAX_VALUE).read(from - 1).envelopes();
        for (Envelope e : repeated) {
            int i = (int) (e.seq() - from);
            if (i >= stored.size() || !Arrays.equals(EnvelopeCodec.encode(e), EnvelopeCodec.encode(stored.get(i)))) {
                throw refuse("record " + e.seq() + " there is not the operation this site offers again (or this site's"
                        + " state is older than its published log: a cache directory restored from a backup?)");
            }
        }
    }

    /**
     * The head is beyond what this publisher knows it wrote. Its own earlier attempt at this batch
     * may have reached the target with the answer lost (a timeout after the head was stored): then
     * the records up to the head are this batch's. Anything else is another writer.
     */
    private void adoptLostAttempt(List<Envelope> fresh, SiteHead head) throws StoreException {
        if (head.lastSeq() > fresh.get(fresh.size() - 1).seq()) {
            throw refuse(ObjectKeys.siteHead(site) + " says the log goes to " + head.lastSeq()
                    + ", beyond the " + published + " this site published");
        }
        checkPublished(fresh.stream().filter(e -> e.seq() <= head.lastSeq()).toList());
        published = head.lastSeq();
    }

    private SiteHead readHead() throws StoreException {
        try {
            return SiteHead.read(store, site);
        } catch (LogIntegrityException e) {
            return null; // a hint only: a damaged head is rewritten by the next segment
        }
    }

    private SiteNameTakenException refuse(String what) {
        refused = new SiteNameTakenException("another writer publishes as site \"" + site + "\" in " + store.describe()
                + ": " + what + ". Nothing was overwritten; this site stops publishing until each writer has its own"
                + " site name (is the same --site mounted or synced twice?)");
        return refused;
    }
}
