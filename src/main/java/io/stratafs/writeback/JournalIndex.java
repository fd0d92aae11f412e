package io.stratafs.writeback;

import io.stratafs.meta.Bytes;
import io.stratafs.meta.JournalCodec;
import io.stratafs.meta.KvTxn;
import io.stratafs.meta.Mutation;
import io.stratafs.meta.Table;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.SortedSet;

/**
 * Which local journal records touch each inode, so that "is this file's history in target T?" is a
 * lookup instead of a scan of the upload backlog. Built lazily from the JOURNAL table: each call
 * indexes the records committed since the last one, so every record is decoded once. Records the
 * journal no longer holds were trimmed because every target has them, and are forgotten.
 *
 * <p>A record touches an inode's <em>content</em> when it changes its inode record, block map,
 * xattrs or symlink target, or (for a directory) an entry in it; it touches the inode's
 * <em>name</em> when it puts a directory entry naming it (create, link, rename).
 */
final class JournalIndex {
    private final Map<Long, Seqs> content = new HashMap<>();
    private final Map<Long, Seqs> names = new HashMap<>();
    private long indexedUpTo;
    /** The oldest record any list may hold; a trim past it makes forgetting worthwhile. */
    private long oldestKept = Long.MAX_VALUE;

    /** Indexes what {@code txn} sees beyond what was indexed before, and forgets trimmed records. */
    synchronized void catchUp(KvTxn txn) {
        txn.scan(Table.JOURNAL, new byte[0], Bytes.longKey(indexedUpTo + 1), (k, v) -> {
            long seq = k.getLong(k.position());
            for (Mutation m : JournalCodec.decode(Bytes.toArray(v))) {
                index(seq, m);
            }
            indexedUpTo = seq;
            return true;
        });
        long[] firstHeld = {indexedUpTo + 1};
        txn.scan(Table.JOURNAL, new byte[0], (k, v) -> {
            firstHeld[0] = k.getLong(k.position());
            return false;
        });
        if (firstHeld[0] > oldestKept) {
            forgetBefore(firstHeld[0]);
        }
    }

    private void index(long seq, Mutation m) {
        byte[] key = m.key();
        switch (m.table()) {
            case INODE, SYMLINK, BLOCKMAP, XATTR -> add(content, Bytes.getLong(key, 0), seq);
            case DENTRY -> {
                add(content, Bytes.getLong(key, 0), seq);
                if (!m.isDelete()) {
                    add(names, Bytes.getLong(m.value(), 0), seq);
                }
            }
            default -> {
                // counters and local tables name no inode
            }
        }
    }

    private void add(Map<Long, Seqs> map, long ino, long seq) {
        map.computeIfAbsent(ino, i -> new Seqs()).add(seq);
        oldestKept = Math.min(oldestKept, seq);
    }

    private void forgetBefore(long seq) {
        oldestKept = Long.MAX_VALUE;
        for (Map<Long, Seqs> map : java.util.List.of(content, names)) {
            for (Iterator<Seqs> it = map.values().iterator(); it.hasNext(); ) {
                Seqs s = it.next();
                s.dropBelow(seq);
                if (s.size == 0) {
                    it.remove();
                } else {
                    oldestKept = Math.min(oldestKept, s.values[0]);
                }
            }
        }
    }

    /** Adds to {@code out} the records after {@code after} that touch the content or name of {@code ino}. */
    synchronized void contentAndName(long ino, long after, SortedSet<Long> out) {
        collect(content.get(ino), after, out);
        collect(names.get(ino), after, out);
    }

    /** Adds to {@code out} the records after {@code after} that gave {@code ino} a name. */
    synchronized void name(long ino, long after, SortedSet<Long> out) {
        collect(names.get(ino), after, out);
    }

    private static void collect(Seqs s, long after, SortedSet<Long> out) {
        if (s == null) {
            return;
        }
        for (int i = s.firstAbove(after); i < s.size; i++) {
            out.add(s.values[i]);
        }
    }

    /** Inodes with records held (for tests). */
    synchronized int size() {
        return content.size() + names.size();
    }

    /** Ascending sequence numbers, each once. */
    private static final class Seqs {
        long[] values = new long[2];
        int size;

        void add(long seq) {
            if (size > 0 && values[size - 1] >= seq) {
                return;
            }
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = seq;
        }

        int firstAbove(long seq) {
            int i = Arrays.binarySearch(values, 0, size, seq);
            return i >= 0 ? i + 1 : -i - 1;
        }

        void dropBelow(long seq) {
            int from = firstAbove(seq - 1);
            System.arraycopy(values, from, values, 0, size - from);
            size -= from;
        }
    }
}
