package io.stratafs.writeback;

import io.stratafs.meta.JournalCodec;
import io.stratafs.meta.Kv;
import io.stratafs.meta.Mutation;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds the namespace of an empty cache from a target: the newest checkpoint, then every journal
 * segment after it, in order. Used when a new machine (or one that lost its SSD) mounts a volume.
 */
public final class Recovery {
    private static final Logger LOG = LoggerFactory.getLogger(Recovery.class);

    private Recovery() {
    }

    /** The last journal record of {@code site} that {@code target} holds (0 when it holds none). */
    public static long lastSeq(ObjectStore target, String site) throws StoreException {
        long last = 0;
        for (String key : target.list(ObjectKeys.journalPrefix(site))) {
            last = Math.max(last, ObjectKeys.segmentLast(key));
        }
        for (String key : target.list(ObjectKeys.checkpointPrefix(site))) {
            last = Math.max(last, ObjectKeys.checkpointSeq(key));
        }
        return last;
    }

    /** Returns the last journal sequence applied (0 for a volume with no history yet). */
    public static long restore(Kv kv, ObjectStore target, String site) throws StoreException {
        long applied = 0;
        List<String> checkpoints = target.list(ObjectKeys.checkpointPrefix(site));
        if (!checkpoints.isEmpty()) {
            String key = checkpoints.get(checkpoints.size() - 1);
            SegmentCodec.Entry cp = SegmentCodec.decodeCheckpoint(target.get(key), key);
            kv.restore(JournalCodec.decode(cp.record()), cp.seq());
            applied = cp.seq();
        }
        int segments = 0;
        for (String key : target.list(ObjectKeys.journalPrefix(site))) {
            if (ObjectKeys.segmentLast(key) <= applied) {
                continue;
            }
            if (ObjectKeys.segmentFirst(key) > applied + 1) {
                throw new StoreException("journal of site " + site + " in " + target.describe()
                        + " has a gap after record " + applied + " (next segment is " + key + ")");
            }
            List<Mutation> batch = new ArrayList<>();
            for (SegmentCodec.Entry e : SegmentCodec.decodeSegment(target.get(key), key)) {
                if (e.seq() == applied + 1) {
                    batch.addAll(JournalCodec.decode(e.record()));
                    applied = e.seq();
                }
            }
            kv.restore(batch, applied);
            segments++;
        }
        LOG.info("restored the namespace from {} up to journal record {} ({} checkpoint(s) found, {} segment(s) replayed)",
                target.describe(), applied, checkpoints.size(), segments);
        return applied;
    }
}
