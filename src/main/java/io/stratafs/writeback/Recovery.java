package io.stratafs.writeback;

import io.stratafs.meta.JournalCodec;
import io.stratafs.meta.Kv;
import io.stratafs.meta.Mutation;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import java.io.IOException;
import java.io.InputStream;
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
            applied = restoreCheckpoint(kv, target, key);
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

    private static long restoreCheckpoint(Kv kv, ObjectStore target, String key) throws StoreException {
        long start = System.nanoTime();
        try (RangedObjectStream in = new RangedObjectStream(target, key)) {
            long seq = CheckpointStream.restore(in, key, kv);
            LOG.info("checkpoint {} ({} bytes) restored in {} ms", key, in.offset, (System.nanoTime() - start) / 1_000_000);
            return seq;
        } catch (IOException e) {
            if (e.getCause() instanceof StoreException se) {
                throw se;
            }
            throw new StoreException("cannot read checkpoint " + key + " from " + target.describe() + ": " + e.getMessage(), e);
        }
    }

    /** An object read in ranges of {@link #CHUNK} bytes, so a large checkpoint never sits in the heap whole. */
    private static final class RangedObjectStream extends InputStream {
        private static final int CHUNK = 8 << 20;
        private final ObjectStore target;
        private final String key;
        private byte[] chunk = new byte[0];
        private int pos;
        private long offset;
        private boolean last;

        RangedObjectStream(ObjectStore target, String key) {
            this.target = target;
            this.key = key;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (pos == chunk.length) {
                if (last) {
                    return -1;
                }
                try {
                    chunk = target.getRange(key, offset, CHUNK);
                } catch (StoreException e) {
                    throw new IOException(e.getMessage(), e);
                }
                pos = 0;
                offset += chunk.length;
                last = chunk.length < CHUNK;
                if (chunk.length == 0) {
                    return -1;
                }
            }
            int n = Math.min(len, chunk.length - pos);
            System.arraycopy(chunk, pos, b, off, n);
            pos += n;
            return n;
        }
    }
}
