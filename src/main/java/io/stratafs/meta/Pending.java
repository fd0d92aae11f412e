package io.stratafs.meta;

import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Changes not yet committed to LMDB, per table in LMDB's key order (unsigned bytes, shorter first);
 * a delete is kept as the {@link #DELETED} marker so it hides the committed value. One instance holds
 * one write's changes while its body runs, another the group collected since the last LMDB commit.
 * Not thread-safe: {@link LmdbKv}'s locks guard it.
 *
 * <p>Every read of the namespace asks each pending layer for its key before LMDB, and a group holds
 * thousands of keys: so point lookups go to a hash index of (table, key) beside the sorted maps,
 * which only scans need (a TreeMap lookup compared byte arrays some 15 times; it was about 9% of
 * the FUSE threads' samples creating small files).
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

    private final Map<Table, TreeMap<byte[], byte[]>> tables = new EnumMap<>(Table.class);
    /** The same entries as {@link #tables}, for point lookups. */
    private final HashMap<Key, byte[]> index = new HashMap<>();
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
        TreeMap<byte[], byte[]> sorted = tables.get(table);
        if (sorted == null) {
            sorted = new TreeMap<>(Arrays::compareUnsigned);
            tables.put(table, sorted);
        }
        Key k = new Key(table, key);
        byte[] old = index.put(k, value);
        sorted.put(key, value);
        bytes += stored(value.length) + (old == null ? key.length + ENTRY_OVERHEAD : -stored(old.length));
        if (value != DELETED) {
            netBytes += key.length + value.length;
        }
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
        TreeMap<byte[], byte[]> m = tables.get(table);
        if (m != null) {
            for (byte[] v : m.values()) {
                if (v != DELETED) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The pending changes of {@code table} from {@code start} (inclusive) on, in key order. */
    NavigableMap<byte[], byte[]> from(Table table, byte[] start) {
        TreeMap<byte[], byte[]> m = tables.get(table);
        return m == null ? Collections.emptyNavigableMap() : m.tailMap(start, true);
    }

    Map<Table, TreeMap<byte[], byte[]>> tables() {
        return tables;
    }

    /** Takes over {@code later}'s changes (they win) and notes the write-ahead record they came in. */
    void addAll(Pending later, long walSeq, long nowNanos) {
        if (isEmpty()) {
            sinceNanos = nowNanos;
        }
        long net = netBytes + later.netBytes;
        for (Map.Entry<Table, TreeMap<byte[], byte[]>> t : later.tables.entrySet()) {
            for (Map.Entry<byte[], byte[]> e : t.getValue().entrySet()) {
                put(t.getKey(), e.getKey(), e.getValue());
            }
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
        return tables.isEmpty();
    }

    /** A table and a key's bytes, hashed once; the bytes must not change while a map holds it. */
    static final class Key {
        private final Table table;
        private final byte[] bytes;
        private final int hash;

        Key(Table table, byte[] bytes) {
            this.table = table;
            this.bytes = bytes;
            this.hash = 31 * table.ordinal() + Arrays.hashCode(bytes);
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
