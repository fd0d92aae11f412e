package io.stratafs.writeback;

import io.stratafs.meta.Bytes;
import io.stratafs.meta.Kv;
import io.stratafs.meta.Table;
import io.stratafs.store.ObjectStore;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Persistent ids of a cache directory's targets (docs/FORMAT.md, table {@code local}). A target is
 * known by its location ({@link ObjectStore#describe()}; the cache directory belongs to one volume,
 * which supplies the UUID), and its id keys its upload queue and positions, so reordering or adding
 * targets between mounts keeps every target's backlog with it. Ids are never reused.
 */
public final class TargetIds {
    private static final byte[] NEXT = "target.next".getBytes(StandardCharsets.UTF_8);
    private static final int MAX_IDS = 256;

    private TargetIds() {
    }

    /**
     * The LOCAL key marking a target whose upload queue misses blocks: it got its id while the cache
     * already held blocks or journal records, which were queued for the targets of that time only.
     */
    static byte[] incompleteKey(int id) {
        return ("target.incomplete." + id).getBytes(StandardCharsets.UTF_8);
    }

    /** Returns the id of each target, assigning new ones to targets this cache has not seen. */
    public static int[] assign(Kv kv, List<ObjectStore> targets) {
        return kv.write(txn -> {
            boolean[] holdsData = {false};
            for (Table t : new Table[] {Table.CACHE_INFO, Table.JOURNAL}) {
                txn.scan(t, new byte[0], (k, v) -> {
                    holdsData[0] = true;
                    return false;
                });
            }
            byte[] nextBytes = txn.get(Table.LOCAL, NEXT);
            // a cache written before ids existed keyed its queues by list position: keep that meaning
            int next = nextBytes == null ? 0 : (int) Bytes.getLong(nextBytes, 0);
            boolean legacy = nextBytes == null;
            int[] ids = new int[targets.size()];
            for (int t = 0; t < ids.length; t++) {
                byte[] key = ("target." + targets.get(t).describe()).getBytes(StandardCharsets.UTF_8);
                byte[] known = txn.get(Table.LOCAL, key);
                if (known != null) {
                    ids[t] = known[0] & 0xff;
                    continue;
                }
                int id = legacy ? t : next;
                if (id >= MAX_IDS) {
                    throw new IllegalStateException("this cache directory has seen " + MAX_IDS
                            + " different targets, the most it can track; mount with a new --cache-dir");
                }
                txn.put(Table.LOCAL, key, new byte[] {(byte) id});
                if (!legacy && holdsData[0]) {
                    txn.put(Table.LOCAL, incompleteKey(id), new byte[0]);
                }
                ids[t] = id;
                next = Math.max(next, id + 1);
            }
            txn.put(Table.LOCAL, NEXT, Bytes.longKey(next));
            return ids;
        });
    }
}
