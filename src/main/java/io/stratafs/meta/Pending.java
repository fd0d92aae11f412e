package io.stratafs.meta;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Changes not yet committed to LMDB, by table and key; a delete is kept as the {@link #DELETED}
 * marker so it hides the committed value. One instance holds one write's changes while its body
 * runs, another the group collected since the last LMDB commit. Not thread-safe, but for the sorted
 * views a scan makes: {@link LmdbKv}'s locks guard it.
 *
 * <p>Every read of the namespace asks each pending layer for its key before LMDB, and a group holds
 * thousands of keys: so point lookups go to a hash index of (table, key), and only the tables that
 * are scanned also get a sorted map, in LMDB's key order (unsigned bytes, shorter first).
 */
final class Pending {
    /** The marker of a deleted key, compared by identity (stored values are always copies). */
    static final byte[] DELETED = new byte[0];
    /** What a map entry costs on the heap beyond its key and value, roughly. */
    private static final int ENTRY_OVERHEAD = 96;
    /**
     * LMDB's page: a value longer than about half of one is stored in whole overflow pages of its
     * own, and the pages a commit frees are reusable only two commits later. So a group is counted
     * in the pages it writes and frees, not in value bytes: a group of 3 KiB cached blocks takes
     * twice its value bytes in pages, and a small cache's file would grow by that much more churn.
     */
    private static final int PAGE = 4096;
    private static final Table[] TABLES = Table.values();
    private static final Comparator<byte[]> LMDB_ORDER = Arrays::compareUnsigned;

    /** Every pending change by (table, key): point lookups, and the one place a change is held. */
    private final HashMap<Key, byte[]> index = new HashMap<>();
    /**
     * Per table (by ordinal), the same entries in LMDB's key order, made on the first scan of the
     * table and kept up to date from then on; null while nothing scanned it. A group holds
     * thousands of keys and took every write's changes into a TreeMap of each table, some 15 byte
     * array comparisons per change: a sixth of the FUSE threads' samples creating small files, most
     * of it for tables only ever read by key (inodes, replica nodes and edges, the inode map, the
     * journal). Made under this object's monitor, since readers holding LmdbKv's read lock may
     * scan one group at once; changed only by a writer holding LmdbKv's write lock (or, for a
     * write's own layer, by its one thread).
     */
    @SuppressWarnings("unchecked")
    private final TreeMap<byte[], byte[]>[] sorted = new TreeMap[TABLES.length];
    /** Per table: how many pending keys hold a value rather than a delete. */
    private final int[] values = new int[TABLES.length];
    /** The writes merged here, in order, with their write-ahead numbers: a group commits them one by one when it does not fit whole. */
    private final java.util.List<Pending> writes = new java.util.ArrayList<>();
    private final java.util.List<Long> writeSeqs = new java.util.ArrayList<>();
    /** How many of {@link #writes} LMDB already holds. */
    private int writesCommitted;
    private long bytes;
    /** Page-rounded bytes that deletes of large values free (see {@link #PAGE}). */
    private long freedBytes;
    /** What the changes add to LMDB's live data, roughly: values put less values deleted. */
    private long netBytes;
    private long sinceNanos;
    private long lastWalSeq;

    void put(Table table, byte[] key, byte[] value) {
        put(new Key(table, key), value);
    }

    private void put(Key k, byte[] value) {
        byte[] old = index.put(k, value);
        int t = k.table.ordinal();
        TreeMap<byte[], byte[]> m = sorted[t];
        if (m != null) {
            m.put(k.bytes, value);
        }
        if (old != null && old != DELETED) {
            values[t]--;
        }
        if (value != DELETED) {
            values[t]++;
            netBytes += k.bytes.length + value.length;
        }
        bytes += stored(value.length) + (old == null ? k.bytes.length + ENTRY_OVERHEAD : -stored(old.length));
    }

    /** Records a delete of an entry of {@code freed} bytes (key and value). */
    void delete(Table table, byte[] key, long freed) {
        put(table, key, DELETED);
        netBytes -= freed;
        long pages = freed > PAGE / 2 ? stored(freed) : 0;
        freedBytes += pages;
        bytes += pages;
    }

    /** What a value of {@code length} bytes takes in LMDB: whole pages once it overflows its node. */
    private static long stored(long length) {
        return length > PAGE / 2 ? (length + 16 + PAGE - 1) / PAGE * PAGE : length;
    }

    long netBytes() {
        return netBytes;
    }

    /** The pending value, {@link #DELETED}, or null when this key has no pending change. */
    byte[] get(Table table, byte[] key) {
        return get(new Key(table, key));
    }

    /** As {@link #get(Table, byte[])}, with a key a reader asks every layer with. */
    byte[] get(Key key) {
        return index.isEmpty() ? null : index.get(key);
    }

    /** Whether a value (not a delete) is pending in {@code table}. */
    boolean puts(Table table) {
        return values[table.ordinal()] > 0;
    }

    /** The pending changes of {@code table} from {@code start} (inclusive) on, in key order. */
    NavigableMap<byte[], byte[]> from(Table table, byte[] start) {
        if (index.isEmpty()) {
            return Collections.emptyNavigableMap();
        }
        TreeMap<byte[], byte[]> m = sorted(table);
        return m.isEmpty() ? Collections.emptyNavigableMap() : m.tailMap(start, true);
    }

    /** {@code table}'s pending changes in key order, sorted now if no scan asked before. */
    private synchronized TreeMap<byte[], byte[]> sorted(Table table) {
        TreeMap<byte[], byte[]> m = sorted[table.ordinal()];
        if (m == null) {
            m = new TreeMap<>(LMDB_ORDER);
            for (Map.Entry<Key, byte[]> e : index.entrySet()) {
                if (e.getKey().table == table) {
                    m.put(e.getKey().bytes, e.getValue());
                }
            }
            sorted[table.ordinal()] = m;
        }
        return m;
    }

    /**
     * Visits every change, table by table in id order and each table in key order (LMDB takes
     * sorted puts best), without keeping the order: the committer's pass, off the callers' threads.
     */
    void forEachInOrder(Change visitor) {
        List<Key> keys = new ArrayList<>(index.keySet());
        keys.sort(ORDER);
        for (Key k : keys) {
            visitor.visit(k.table, k.bytes, index.get(k));
        }
    }

    /** One pending change: a value, or {@link #DELETED}. */
    @FunctionalInterface
    interface Change {
        void visit(Table table, byte[] key, byte[] value);
    }

    private static final Comparator<Key> ORDER = (a, b) -> a.table != b.table
            ? Integer.compare(a.table.ordinal(), b.table.ordinal()) : Arrays.compareUnsigned(a.bytes, b.bytes);

    /** Takes over {@code later}'s changes (they win) and notes the write-ahead record they came in. */
    void addAll(Pending later, long walSeq, long nowNanos) {
        if (isEmpty()) {
            sinceNanos = nowNanos;
        }
        long net = netBytes + later.netBytes;
        for (Map.Entry<Key, byte[]> e : later.index.entrySet()) {
            put(e.getKey(), e.getValue());
        }
        netBytes = net;
        freedBytes += later.freedBytes;
        bytes += later.freedBytes;
        lastWalSeq = walSeq;
        writes.add(later);
        writeSeqs.add(walSeq);
    }

    int writeCount() {
        return writes.size();
    }

    Pending write(int i) {
        return writes.get(i);
    }

    long writeSeq(int i) {
        return writeSeqs.get(i);
    }

    int writesCommitted() {
        return writesCommitted;
    }

    void writesCommitted(int n) {
        writesCommitted = n;
    }

    boolean isEmpty() {
        return index.isEmpty();
    }

    /** A table and a key's bytes, hashed once; the bytes must not change while a map holds it. */
    static final class Key {
        private final Table table;
        private final byte[] bytes;
        private final int hash;

        Key(Table table, byte[] bytes) {
            this.table = table;
            this.bytes = bytes;
            this.hash = hash(table, bytes);
        }

        /**
         * FNV-1a over the table and the key's bytes, folded to 32 bits. Not Arrays.hashCode: the
         * keys are mostly big-endian numbers (inode numbers, clock stamps) that differ in their
         * last two bytes, where its polynomial maps 256 * a + b to 31 * a + b with b signed, so
         * about eight keys of a group shared each hash value and the HashMap's bins turned into
         * trees (their lookups were a tenth of the samples creating small files).
         */
        private static int hash(Table table, byte[] bytes) {
            long h = 0xcbf29ce484222325L ^ table.ordinal();
            for (byte b : bytes) {
                h = (h ^ (b & 0xff)) * 0x100000001b3L;
            }
            return (int) (h ^ (h >>> 32));
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.hash == hash && k.table == table && Arrays.equals(k.bytes, bytes);
        }
    }

    /** Heap bytes held, roughly, with large values and large deletes counted in LMDB pages: what the group bound counts. */
    long bytes() {
        return bytes;
    }

    /** When the first change arrived ({@link System#nanoTime}); meaningless while empty. */
    long sinceNanos() {
        return sinceNanos;
    }

    /** The sequence number of the last write-ahead record whose changes are here. */
    long lastWalSeq() {
        return lastWalSeq;
    }
}
