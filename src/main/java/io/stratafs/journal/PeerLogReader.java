package io.stratafs.journal;

import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectNotFoundException;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import io.stratafs.sync.Envelope;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads one peer's log from that peer's storage, from a cursor on. A poll with nothing new costs one
 * GET (the peer's {@link SiteHead}); when the head names the next segment, a poll costs one GET more
 * per segment; otherwise it LISTs only keys after the last one it knows ({@link ObjectStore#listAfter}).
 * Without a head (none yet, or damaged), or with one behind the cursor, it lists every poll, and
 * refuses a log that holds less than this site already applied from it. Envelopes come back in log
 * order, each checked against its segment; a gap or overlap between segments, or a damaged segment,
 * is a {@link LogIntegrityException} naming the objects, never skipped (a read hands over the
 * envelopes before the damage; the next read, starting at it, fails).
 *
 * <p>Keeps an index of the segment keys it has listed, trimmed below the cursor. Not for concurrent
 * use: one reader per peer and storage, called by one poller.
 */
public final class PeerLogReader {
    private final ObjectStore store;
    private final String peer;
    private final String prefix;
    private final int maxSegmentsPerRead;
    private final TreeMap<Long, LogSegments.Range> index = new TreeMap<>();
    private String lastListedKey;
    private long trimmedThrough;

    /** What one {@link #read} found. {@code head} is null when the peer has none; {@code more}: segments remain to read. */
    public record Batch(List<Envelope> envelopes, SiteHead head, boolean more) {
    }

    /** {@code maxSegmentsPerRead} bounds one read's work (a peer that catches up after months). */
    public PeerLogReader(ObjectStore store, String peer, int maxSegmentsPerRead) {
        if (maxSegmentsPerRead < 1) {
            throw new IllegalArgumentException("a read must be allowed at least one segment, not " + maxSegmentsPerRead);
        }
        this.store = store;
        this.peer = peer;
        this.prefix = ObjectKeys.opLogPrefix(peer);
        this.maxSegmentsPerRead = maxSegmentsPerRead;
    }

    public String peer() {
        return peer;
    }

    /**
     * The peer's envelopes after {@code cursor}, oldest first. {@code cursor} is the last sequence the
     * caller holds (applied, or kept until its causes arrive), so envelopes are not fetched twice;
     * a cursor lower than an earlier one (state restored from an older copy) reads again from there.
     */
    public Batch read(long cursor) throws StoreException {
        if (cursor < trimmedThrough) {
            forget();
        }
        trim(cursor);
        SiteHead head = readHead();
        if (cursor > 0 && (head == null || head.lastSeq() < cursor)) {
            relist(cursor);
        } else {
            long known = index.isEmpty() ? cursor : index.lastEntry().getValue().last();
            if (head == null || head.lastSeq() > known) {
                learn(cursor, head);
            } else if (known == cursor) {
                return new Batch(List.of(), head, false);
            }
        }
        List<Envelope> out = fetch(cursor);
        long reached = out.isEmpty() ? cursor : out.get(out.size() - 1).seq();
        boolean more = !index.isEmpty() && index.lastEntry().getValue().last() > reached;
        return new Batch(out, head, more);
    }

    private SiteHead readHead() throws StoreException {
        try {
            return SiteHead.read(store, peer);
        } catch (LogIntegrityException e) {
            return null; // only a hint: list instead
        }
    }

    /**
     * The head is missing or behind what this site already applied: only a full listing can tell a
     * stale hint from a log that lost records (storage emptied or restored from an older copy),
     * which must stop this peer rather than let reused sequence numbers be taken for new operations.
     */
    private void relist(long cursor) throws StoreException {
        List<LogSegments.Range> segments = LogSegments.segmentsIn(store.list(prefix));
        forget();
        for (LogSegments.Range r : segments) {
            add(r);
        }
        long last = index.isEmpty() ? 0 : index.lastEntry().getValue().last();
        if (last < cursor) {
            throw new LogIntegrityException("site " + peer + "'s log in " + store.describe() + " goes only to " + last
                    + ", but this site has applied it up to " + cursor + ": that storage lost part of the log (emptied,"
                    + " or restored from an older copy?); nothing more is read from it until it holds the log again");
        }
        trim(cursor);
    }

    /** Adds the segments after what the index knows: the head's segment if it is the very next, else a listing. */
    private void learn(long cursor, SiteHead head) throws StoreException {
        long indexed = index.isEmpty() ? cursor : index.lastEntry().getValue().last();
        if (head != null && head.segmentFirst() == indexed + 1) {
            add(LogSegments.parseKey(head.segmentKey(peer)));
            return;
        }
        List<LogSegments.Range> segments;
        if (lastListedKey != null) {
            segments = LogSegments.segmentsIn(store.listAfter(prefix, lastListedKey));
        } else {
            // a cold start: when the cursor ends a segment, the next one starts at cursor + 1
            segments = LogSegments.segmentsIn(store.listAfter(prefix, prefix + String.format("%016x", cursor + 1)));
            if (cursor > 0 && (segments.isEmpty() || segments.get(0).first() != cursor + 1)) {
                segments = LogSegments.segmentsIn(store.list(prefix));
            }
        }
        for (LogSegments.Range r : segments) {
            add(r);
        }
    }

    private void add(LogSegments.Range r) throws LogIntegrityException {
        Map.Entry<Long, LogSegments.Range> before = index.floorEntry(r.first());
        if (before != null && before.getValue().key().equals(r.key())) {
            return;
        }
        if (before != null && before.getValue().last() >= r.first()) {
            throw new LogIntegrityException("site " + peer + "'s log in " + store.describe() + " has overlapping segments "
                    + before.getValue().key() + " and " + r.key() + " (two writers with one site name?)");
        }
        index.put(r.first(), r);
        if (lastListedKey == null || r.key().compareTo(lastListedKey) > 0) {
            lastListedKey = r.key();
        }
    }

    private List<Envelope> fetch(long cursor) throws StoreException {
        List<Envelope> out = new ArrayList<>();
        Map.Entry<Long, LogSegments.Range> start = index.floorEntry(cursor + 1);
        if (start == null || start.getValue().last() <= cursor) {
            Map.Entry<Long, LogSegments.Range> later = index.higherEntry(cursor + 1);
            if (later != null) {
                throw missing(cursor + 1, later.getValue().first() - 1, later.getValue().key());
            }
            return out;
        }
        long expected = cursor + 1;
        int fetched = 0;
        for (LogSegments.Range r : index.tailMap(start.getKey(), true).values()) {
            if (fetched == maxSegmentsPerRead) {
                break;
            }
            List<Envelope> segment;
            try {
                if (r.first() > expected) {
                    throw missing(expected, r.first() - 1, r.key());
                }
                segment = LogSegments.decode(get(r.key()), r.key());
            } catch (LogIntegrityException e) {
                if (out.isEmpty()) {
                    throw e;
                }
                break; // hand over what precedes the damage; the next read starts at it and fails
            }
            for (Envelope e : segment) {
                if (e.seq() >= expected) {
                    out.add(e);
                }
            }
            expected = r.last() + 1;
            fetched++;
        }
        return out;
    }

    private byte[] get(String key) throws StoreException {
        try {
            return store.get(key);
        } catch (ObjectNotFoundException e) {
            forget(); // listed or named by the head, yet gone: list afresh next time
            throw new LogIntegrityException("site " + peer + "'s log segment " + key + " is missing from " + store.describe());
        }
    }

    private LogIntegrityException missing(long from, long to, String nextKey) {
        return new LogIntegrityException("records " + from + ".." + to + " of site " + peer + "'s log are missing from "
                + store.describe() + " (the next segment there is " + nextKey + ")");
    }

    private void forget() {
        index.clear();
        lastListedKey = null;
        trimmedThrough = 0;
    }

    private void trim(long cursor) {
        while (!index.isEmpty() && index.firstEntry().getValue().last() <= cursor) {
            trimmedThrough = Math.max(trimmedThrough, index.pollFirstEntry().getValue().last());
        }
    }
}
