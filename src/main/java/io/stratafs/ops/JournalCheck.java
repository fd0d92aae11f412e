package io.stratafs.ops;

import io.stratafs.meta.Bytes;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import io.stratafs.writeback.SegmentCodec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Whether a site's journal and checkpoints in one target agree: each checkpoint holds the position
 * its name says, each segment holds exactly the records its name says, one after the other, and
 * from the newest checkpoint on the segments leave no gap.
 */
final class JournalCheck {
    private static final byte[] CHECKPOINT_MAGIC = "SCP1".getBytes(StandardCharsets.US_ASCII);

    private JournalCheck() {
    }

    static List<String> problems(ObjectStore target, String site) throws StoreException {
        List<String> problems = new ArrayList<>();
        String where = " (site " + site + " in " + target.describe() + ")";
        long base = 0;
        for (String key : target.list(ObjectKeys.checkpointPrefix(site))) {
            byte[] head = target.getRange(key, 0, 12);
            long named = ObjectKeys.checkpointSeq(key);
            if (head.length < 12 || !Arrays.equals(head, 0, 4, CHECKPOINT_MAGIC, 0, 4)) {
                problems.add("checkpoint " + key + " is not a StrataFS checkpoint" + where);
            } else if (Bytes.getLong(head, 4) != named) {
                problems.add("checkpoint " + key + " holds the namespace as of record " + Bytes.getLong(head, 4)
                        + ", not " + named + " as its name says" + where);
            }
            base = Math.max(base, named);
        }
        List<String> segments = new ArrayList<>(target.list(ObjectKeys.journalPrefix(site)));
        segments.sort((a, b) -> Long.compareUnsigned(ObjectKeys.segmentFirst(a), ObjectKeys.segmentFirst(b)));
        long expected = base + 1;
        for (String key : segments) {
            long first = ObjectKeys.segmentFirst(key);
            long last = ObjectKeys.segmentLast(key);
            if (last < expected) {
                continue;
            }
            if (first > expected) {
                problems.add("the journal has no records " + expected + " to " + (first - 1) + " (next segment is " + key + ")" + where);
            }
            problems.addAll(entryProblems(target.get(key), key, first, last, where));
            expected = last + 1;
        }
        return problems;
    }

    private static List<String> entryProblems(byte[] data, String key, long first, long last, String where) {
        List<SegmentCodec.Entry> entries;
        try {
            entries = SegmentCodec.decodeSegment(data, key);
        } catch (IllegalArgumentException e) {
            return List.of(e.getMessage() + where);
        }
        long next = first;
        for (SegmentCodec.Entry e : entries) {
            if (e.seq() != next) {
                return List.of("journal segment " + key + " holds record " + e.seq() + " where " + next + " belongs" + where);
            }
            next++;
        }
        if (next - 1 != last) {
            return List.of("journal segment " + key + " ends at record " + (next - 1) + ", not " + last + " as its name says" + where);
        }
        return List.of();
    }
}
