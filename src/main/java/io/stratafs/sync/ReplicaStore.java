package io.stratafs.sync;

import java.util.List;
import java.util.Map;

/**
 * Where a replica keeps its state, as a few typed records and indexes, so that an LMDB table per
 * kind can implement it without the engine changing: nodes and edges by id, edges by (parent, name)
 * and by node, the log of directory moves in OpId order, this site's own log, the per-site cursors
 * and the clock. Records are immutable values; a put replaces the record with the same id. The
 * engine changes state only inside {@link #transaction}, one per applied or local operation.
 */
public interface ReplicaStore {
    /** Runs {@code body} as one atomic change (an LMDB write transaction); the memory store just runs it. */
    void transaction(Runnable body);

    /**
     * Makes every change so far survive a power loss (LMDB's store: Kv.sync). Called before this
     * site's envelopes are published: a log position on storage must never be lost locally and reused.
     */
    default void sync() {
    }

    /** The node with this id, or null if none is known. */
    NodeRecord node(OpId id);

    void putNode(NodeRecord node);

    /** The edge with this id, or null if none is known. */
    EdgeRecord edge(OpId id);

    /** Stores the edge and moves it in the (parent, name) index if its placement changed. */
    void putEdge(EdgeRecord edge);

    /** Every edge placed in {@code parent} (live or not), in (name, id) order. */
    List<EdgeRecord> children(OpId parent);

    /** Every edge placed in {@code parent} under {@code name} (live or not), in id order. */
    List<EdgeRecord> childrenNamed(OpId parent, String name);

    /** Every edge of {@code node} (live or not), in id order. */
    List<EdgeRecord> edgesOf(OpId node);

    /** Whether any edge is placed in {@code parent}: lets a caller skip {@link #children} for a leaf. */
    default boolean hasChildren(OpId parent) {
        return !children(parent).isEmpty();
    }

    /**
     * Whether edge {@code edge} was found dead (removed, and nothing keeps it) earlier and nothing
     * stored since could have revived it; false when not known. Lets a presenter skip walking a
     * removed directory's whole subtree on every lookup of its name (an `rm -rf` of a tree, then
     * making it again). Stores that keep no such memory answer false.
     */
    default boolean knownDead(OpId edge) {
        return false;
    }

    /** Tells the store that the presenter found {@code edge} dead in the state it reads now. */
    default void foundDead(OpId edge) {
    }

    void putMove(MoveRecord move);

    /** The directory moves with an id larger than {@code id}, in id order. */
    List<MoveRecord> movesAfter(OpId id);

    /** Appends one of this site's own envelopes; its seq is the previous one's plus one. */
    void appendOwn(Envelope envelope);

    /** This site's own envelopes with seq larger than {@code afterSeq}, in seq order. */
    List<Envelope> ownLog(long afterSeq);

    /**
     * The longest prefix of {@link #ownLog(long)}, at most {@code max} long, whose envelopes all
     * pass {@code take}; {@code take} runs outside any transaction of the store, and a store
     * decodes no envelope after the first that fails it.
     */
    default List<Envelope> ownLogWhile(long afterSeq, int max, java.util.function.Predicate<Envelope> take) {
        List<Envelope> out = new java.util.ArrayList<>();
        for (Envelope e : ownLog(afterSeq)) {
            if (out.size() == max || !take.test(e)) {
                break;
            }
            out.add(e);
        }
        return out;
    }

    /** Per site: the last log position applied. */
    Map<String, Long> cursors();

    void putCursor(String site, long seq);

    /** The largest clock stamp issued or observed, 0 for a new replica. */
    long clock();

    void putClock(long stamp);

    /** An independent copy of the whole state (a snapshot to restore a site from later). */
    ReplicaStore copy();
}
