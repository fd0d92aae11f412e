package io.stratafs.meta;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.lmdbjava.Cursor;
import org.lmdbjava.Dbi;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.GetOp;
import org.lmdbjava.LmdbException;
import org.lmdbjava.SeekOp;
import org.lmdbjava.Stat;
import org.lmdbjava.Txn;

/**
 * {@link Kv} on one LMDB environment (the only class that knows lmdbjava).
 *
 * <p>Opened with MDB_NOMETASYNC: each commit flushes its data pages, the meta page follows with the
 * next commit or {@link #sync()}; LMDB stays consistent after a power loss and may lose at most the
 * last transaction. MDB_NOTLS lets read transactions move between FUSE threads.
 */
public final class LmdbKv implements Kv {
    private static final byte[] JOURNAL_NEXT = "journal.next".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    private static final ThreadLocal<ByteBuffer> KEY_BUF =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(511));
    private static final ThreadLocal<ByteBuffer> KEY_BUF2 =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(511));

    private final Env<ByteBuffer> env;
    private final Map<Table, Dbi<ByteBuffer>> dbis = new EnumMap<>(Table.class);
    private final Path dataFile;
    private final int pageSize;
    private final ThreadLocal<Boolean> freeing = ThreadLocal.withInitial(() -> false);
    private volatile BooleanSupplier freeRoom;
    private long journalNext;

    public LmdbKv(Path dir, long mapSizeBytes) {
        try {
            Files.createDirectories(dir);
        } catch (java.io.IOException e) {
            throw new MetaException("cannot create cache directory " + dir + ": " + e.getMessage(), e);
        }
        this.dataFile = dir.resolve("data.mdb");
        try {
            env = Env.create()
                    .setMapSize(mapSizeBytes)
                    .setMaxDbs(Table.values().length + 1)
                    .setMaxReaders(512)
                    .open(dir.toFile(), EnvFlags.MDB_NOMETASYNC, EnvFlags.MDB_NOTLS);
        } catch (LmdbException e) {
            throw new MetaException("cannot open the LMDB cache in " + dir + ": " + e.getMessage(), e);
        }
        pageSize = env.stat().pageSize;
        for (Table t : Table.values()) {
            dbis.put(t, env.openDbi(t.name().toLowerCase(java.util.Locale.ROOT), DbiFlags.MDB_CREATE));
        }
        byte[] next = read(txn -> txn.get(Table.LOCAL, JOURNAL_NEXT));
        journalNext = next == null ? 1 : Bytes.getLong(next, 0);
    }

    @Override
    public synchronized long lastJournalSeq() {
        return journalNext - 1;
    }

    @Override
    public synchronized void restore(List<Mutation> mutations, long lastSeq) {
        try (Txn<ByteBuffer> txn = env.txnWrite()) {
            WriteView view = new WriteView(txn);
            for (Mutation m : mutations) {
                if (m.isDelete()) {
                    dbis.get(m.table()).delete(txn, key(KEY_BUF, m.key()));
                } else {
                    view.putRaw(m.table(), m.key(), m.value());
                }
            }
            long next = Math.max(journalNext, lastSeq + 1);
            view.putRaw(Table.LOCAL, JOURNAL_NEXT, Bytes.longKey(next));
            txn.commit();
            journalNext = next;
        }
    }

    @Override
    public <T> T read(Function<KvTxn, T> body) {
        try (Txn<ByteBuffer> txn = env.txnRead()) {
            return body.apply(new ReadView(txn));
        }
    }

    @Override
    public void onFull(BooleanSupplier freeRoom) {
        this.freeRoom = freeRoom;
    }

    /**
     * On MDB_MAP_FULL the aborted transaction is retried once {@link #onFull}'s callback has freed
     * room. The callback runs outside this object's monitor, so it may write (evict) itself; a write
     * it makes that finds the map full again fails rather than recursing.
     */
    @Override
    public <T> T write(Function<KvWriteTxn, T> body) {
        int fruitless = 0;
        while (true) {
            try {
                return writeOnce(body);
            } catch (Env.MapFullException e) {
                BooleanSupplier free = freeRoom;
                // another thread's eviction may be committing the room this one needs: a few more tries
                if (free == null || Thread.holdsLock(this) || freeing.get() || (!freeRoom(free) && ++fruitless > 3)) {
                    throw new CacheFullException("the LMDB cache file is full (raise --cache-size or free space)", e);
                }
            }
        }
    }

    /** Runs the callback; an eviction that itself finds the map full made no room. */
    private boolean freeRoom(BooleanSupplier free) {
        freeing.set(true);
        try {
            return free.getAsBoolean();
        } catch (CacheFullException e) {
            return false;
        } finally {
            freeing.set(false);
        }
    }

    private synchronized <T> T writeOnce(Function<KvWriteTxn, T> body) {
        try (Txn<ByteBuffer> txn = env.txnWrite()) {
            WriteView view = new WriteView(txn);
            T result = body.apply(view);
            long next = journalNext;
            if (!view.mutations.isEmpty()) {
                byte[] record = JournalCodec.encode(System.currentTimeMillis(), view.mutations);
                view.putRaw(Table.JOURNAL, Bytes.longKey(next), record);
                next++;
                view.putRaw(Table.LOCAL, JOURNAL_NEXT, Bytes.longKey(next));
            }
            txn.commit();
            journalNext = next;
            return result;
        } catch (Env.MapFullException e) {
            throw e;
        } catch (LmdbException e) {
            throw new MetaException("LMDB write failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void sync() {
        env.sync(true);
    }

    @Override
    public long usedBytes() {
        var info = env.info();
        var stat = env.stat();
        return (info.lastPageNumber + 1) * (long) stat.pageSize;
    }

    @Override
    public long mapBytes() {
        return env.info().mapSize;
    }

    @Override
    public long liveBytes() {
        try (Txn<ByteBuffer> txn = env.txnRead()) {
            long pages = pages(env.stat());
            for (Dbi<ByteBuffer> dbi : dbis.values()) {
                pages += pages(dbi.stat(txn));
            }
            return pages * pageSize;
        }
    }

    private static long pages(Stat s) {
        return s.branchPages + s.leafPages + s.overflowPages;
    }

    @Override
    public int pageSize() {
        return pageSize;
    }

    @Override
    public void close() {
        env.sync(true);
        env.close();
    }

    private static ByteBuffer key(ThreadLocal<ByteBuffer> holder, byte[] key) {
        if (key.length > 511) {
            throw new IllegalArgumentException("LMDB key longer than 511 bytes");
        }
        ByteBuffer b = holder.get();
        b.clear();
        b.put(key).flip();
        return b;
    }

    private static byte[] copy(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    private class ReadView implements KvTxn {
        final Txn<ByteBuffer> txn;

        ReadView(Txn<ByteBuffer> txn) {
            this.txn = txn;
        }

        @Override
        public byte[] get(Table table, byte[] k) {
            ByteBuffer v = dbis.get(table).get(txn, key(KEY_BUF, k));
            return v == null ? null : copy(v);
        }

        @Override
        public boolean contains(Table table, byte[] k) {
            return dbis.get(table).get(txn, key(KEY_BUF, k)) != null;
        }

        @Override
        public void scan(Table table, byte[] prefix, byte[] start, EntryVisitor visitor) {
            try (Cursor<ByteBuffer> c = dbis.get(table).openCursor(txn)) {
                boolean ok = start.length == 0 ? c.seek(SeekOp.MDB_FIRST) : c.get(key(KEY_BUF2, start), GetOp.MDB_SET_RANGE);
                while (ok) {
                    ByteBuffer k = c.key();
                    if (!Bytes.startsWith(k, prefix) || !visitor.visit(k.duplicate(), c.val().duplicate())) {
                        return;
                    }
                    ok = c.next();
                }
            }
        }
    }

    private final class WriteView extends ReadView implements KvWriteTxn {
        final List<Mutation> mutations = new ArrayList<>();

        WriteView(Txn<ByteBuffer> txn) {
            super(txn);
        }

        void putRaw(Table table, byte[] k, byte[] value) {
            Dbi<ByteBuffer> dbi = dbis.get(table);
            ByteBuffer slot = dbi.reserve(txn, key(KEY_BUF, k), value.length);
            slot.put(value);
        }

        @Override
        public void put(Table table, byte[] k, byte[] value) {
            putRaw(table, k, value);
            if (table.journaled()) {
                mutations.add(new Mutation(table, k.clone(), value.clone()));
            }
        }

        @Override
        public boolean delete(Table table, byte[] k) {
            boolean found = dbis.get(table).delete(txn, key(KEY_BUF, k));
            if (found && table.journaled()) {
                mutations.add(new Mutation(table, k.clone(), null));
            }
            return found;
        }
    }
}
