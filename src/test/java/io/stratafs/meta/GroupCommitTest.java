package io.stratafs.meta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Group commit: what a write promises when it returns, before and after its group reaches LMDB. */
class GroupCommitTest {
    private static final long MAP = 64L << 20;
    private static final long NEVER = TimeUnit.HOURS.toMillis(1);

    @TempDir
    Path tmp;
    private final List<LmdbKv> open = new ArrayList<>();

    @AfterEach
    void closeAll() {
        for (LmdbKv kv : open) {
            kv.close();
        }
    }

    private LmdbKv open(Path dir, long groupBytes, long groupMillis) {
        LmdbKv kv = new LmdbKv(dir, MAP, groupBytes, groupMillis, DiskSeam.NONE);
        open.add(kv);
        return kv;
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] get(Kv kv, Table t, byte[] k) {
        return kv.read(txn -> txn.get(t, k));
    }

    @Test
    void anExceptionDiscardsOnlyItsOwnWriteFromTheGroup() {
        LmdbKv kv = open(tmp.resolve("kv"), LmdbKv.DEFAULT_GROUP_BYTES, NEVER);
        kv.writeVoid(txn -> txn.put(Table.INODE, Bytes.longKey(1), b("one")));
        assertThrows(IllegalStateException.class, () -> kv.writeVoid(txn -> {
            txn.put(Table.INODE, Bytes.longKey(2), b("two"));
            txn.delete(Table.INODE, Bytes.longKey(1));
            throw new IllegalStateException("boom");
        }));
        kv.writeVoid(txn -> txn.put(Table.INODE, Bytes.longKey(3), b("three")));
        assertArrayEquals(b("one"), get(kv, Table.INODE, Bytes.longKey(1)));
        assertNull(get(kv, Table.INODE, Bytes.longKey(2)));
        assertEquals(2, kv.lastJournalSeq(), "the aborted write took no journal number");
        kv.commitPending();
        assertArrayEquals(b("one"), get(kv, Table.INODE, Bytes.longKey(1)));
        assertNull(get(kv, Table.INODE, Bytes.longKey(2)));
        assertArrayEquals(b("three"), get(kv, Table.INODE, Bytes.longKey(3)));
    }

    @Test
    void aWriteIsVisibleToAnotherThreadWhenItReturns() throws Exception {
        LmdbKv kv = open(tmp.resolve("kv"), LmdbKv.DEFAULT_GROUP_BYTES, NEVER);
        ExecutorService reader = Executors.newSingleThreadExecutor();
        try {
            for (int i = 0; i < 200; i++) {
                byte[] key = Bytes.longKey(i);
                byte[] value = b("v" + i);
                kv.writeVoid(txn -> txn.put(Table.DENTRY, key, value));
                Future<byte[]> seen = reader.submit(() -> get(kv, Table.DENTRY, key));
                assertArrayEquals(value, seen.get(10, TimeUnit.SECONDS));
                if (i % 50 == 49) {
                    kv.commitPending();
                }
            }
        } finally {
            reader.shutdown();
        }
    }

    @Test
    void scansMergePendingChangesWithCommittedOnesInKeyOrder() {
        LmdbKv kv = open(tmp.resolve("kv"), LmdbKv.DEFAULT_GROUP_BYTES, NEVER);
        kv.writeVoid(txn -> {
            for (String n : List.of("a", "c", "e", "g")) {
                txn.put(Table.DENTRY, Bytes.inoKey(1, b(n)), b("old " + n));
            }
            txn.put(Table.DENTRY, Bytes.inoKey(2, b("x")), b("other dir"));
        });
        kv.commitPending();
        kv.writeVoid(txn -> {
            txn.put(Table.DENTRY, Bytes.inoKey(1, b("b")), b("new b"));
            txn.put(Table.DENTRY, Bytes.inoKey(1, b("c")), b("new c"));
            assertTrue(txn.delete(Table.DENTRY, Bytes.inoKey(1, b("e"))));
            assertFalse(txn.delete(Table.DENTRY, Bytes.inoKey(1, b("zz"))));
        });
        assertThrows(IllegalStateException.class, () -> kv.writeVoid(txn -> {
            txn.put(Table.DENTRY, Bytes.inoKey(1, b("h")), b("new h"));
            // a write sees its own changes in a scan, and may change entries while visiting them
            List<String> inBody = names(txn, 1);
            assertEquals(List.of("a=old a", "b=new b", "c=new c", "g=old g", "h=new h"), inBody);
            txn.scan(Table.DENTRY, Bytes.longKey(1), (k, v) -> {
                txn.delete(Table.DENTRY, Bytes.toArray(k));
                return true;
            });
            assertEquals(List.of(), names(txn, 1));
            throw new IllegalStateException("abort");
        }));
        assertEquals(List.of("a=old a", "b=new b", "c=new c", "g=old g"), kv.read(txn -> names(txn, 1)));
        kv.commitPending();
        assertEquals(List.of("a=old a", "b=new b", "c=new c", "g=old g"), kv.read(txn -> names(txn, 1)));
        assertEquals(List.of("x=other dir"), kv.read(txn -> names(txn, 2)));
    }

    private static List<String> names(KvTxn txn, long dir) {
        List<String> out = new ArrayList<>();
        txn.scan(Table.DENTRY, Bytes.longKey(dir), (k, v) -> {
            byte[] key = Bytes.toArray(k);
            out.add(new String(key, 8, key.length - 8, StandardCharsets.UTF_8) + "=" + new String(Bytes.toArray(v), StandardCharsets.UTF_8));
            return true;
        });
        return out;
    }

    @Test
    void scansSeeTheGroupBeingCommittedAndTheNextOne() {
        LmdbKv kv = open(tmp.resolve("kv"), LmdbKv.DEFAULT_GROUP_BYTES, NEVER);
        kv.writeVoid(txn -> txn.put(Table.DENTRY, Bytes.inoKey(1, b("a")), b("1")));
        kv.writeVoid(txn -> txn.put(Table.DENTRY, Bytes.inoKey(1, b("b")), b("2")));
        kv.commitPending();
        kv.writeVoid(txn -> txn.delete(Table.DENTRY, Bytes.inoKey(1, b("a"))));
        kv.writeVoid(txn -> txn.put(Table.DENTRY, Bytes.inoKey(1, b("c")), b("3")));
        assertEquals(List.of("b=2", "c=3"), kv.read(txn -> names(txn, 1)));
        kv.commitPending();
        assertEquals(List.of("b=2", "c=3"), kv.read(txn -> names(txn, 1)));
    }

    @Test
    void aLoneSmallWriteReachesLmdbWithinTheGroupTime() throws Exception {
        java.util.concurrent.CountDownLatch committed = new java.util.concurrent.CountDownLatch(1);
        LmdbKv kv = new LmdbKv(tmp.resolve("kv"), MAP, LmdbKv.DEFAULT_GROUP_BYTES, 200, new DiskSeam() {
            @Override
            public void lmdbCommitted() {
                committed.countDown();
            }
        });
        open.add(kv);
        long start = System.nanoTime();
        kv.writeVoid(txn -> txn.put(Table.INODE, Bytes.longKey(1), b("one")));
        assertTrue(committed.await(10, TimeUnit.SECONDS), "the group was never committed");
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(millis >= 150, "committed after " + millis + " ms, before the group was due");
    }

    @Test
    void writersWaitOnceTwoGroupsArePendingEvenBeforeTheCommitterTakesOne() throws Exception {
        long group = 64 << 10;
        int value = 16 << 10;
        int writes = 64;
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch waitedOrDone = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger doneWhenItWaited = new java.util.concurrent.atomic.AtomicInteger(-1);
        LmdbKv kv = new LmdbKv(tmp.resolve("kv"), MAP, group, NEVER, new DiskSeam() {
            @Override
            public void beforeGroupTaken() throws InterruptedException {
                release.await(); // the committer is late: a busy machine, a long GC pause
            }

            @Override
            public void writerWaitsForRoom() {
                doneWhenItWaited.compareAndSet(-1, done.get());
                waitedOrDone.countDown();
            }
        });
        open.add(kv);
        Thread writer = new Thread(() -> {
            for (int i = 0; i < writes; i++) {
                byte[] key = Bytes.longKey(i);
                kv.writeVoid(txn -> txn.put(Table.CACHE_DATA, key, new byte[value]));
                done.incrementAndGet();
            }
            waitedOrDone.countDown();
        }, "test-writer");
        writer.start();
        try {
            assertTrue(waitedOrDone.await(30, TimeUnit.SECONDS), "the writer neither waited nor finished");
            assertTrue(doneWhenItWaited.get() >= 0, "all " + done.get() + " writes of " + value + " bytes were taken in with the"
                    + " committer held; pending changes must stop at two groups of " + group + " bytes");
            assertTrue(doneWhenItWaited.get() <= 2 * group / value + 1, doneWhenItWaited.get() + " writes were let in");
        } finally {
            release.countDown();
        }
        writer.join(TimeUnit.SECONDS.toMillis(30));
        assertFalse(writer.isAlive(), "the writer went on once the committer took the group");
        assertEquals(writes, done.get());
        assertEquals(value, get(kv, Table.CACHE_DATA, Bytes.longKey(writes - 1)).length);
    }

    @Test
    void aWriteInsideAReadIsRefusedInsteadOfWaitingForever() {
        LmdbKv kv = open(tmp.resolve("kv"), LmdbKv.DEFAULT_GROUP_BYTES, NEVER);
        assertThrows(IllegalStateException.class,
                () -> kv.read(txn -> kv.write(w -> {
                    w.put(Table.LOCAL, b("k"), b("v"));
                    return null;
                })));
    }

    @Test
    void everyWriteThatReturnedSurvivesAKilledDaemon() {
        Path dir = tmp.resolve("kv");
        LmdbKv kv = open(dir, 4096, NEVER);
        for (int i = 1; i <= 300; i++) {
            byte[] key = Bytes.longKey(i);
            byte[] value = new byte[i * 7 % 3000];
            value[0] = (byte) i;
            kv.writeVoid(txn -> {
                txn.put(Table.INODE, key, value);
                txn.put(Table.CACHE_DATA, key, value);
            });
        }
        // the daemon dies: its memory is gone, the files as the kernel holds them remain
        Path copy = tmp.resolve("after-kill");
        kv.quiesced(() -> copyTree(dir, copy));
        LmdbKv again = open(copy, 4096, NEVER);
        assertEquals(300, again.lastJournalSeq());
        for (int i = 1; i <= 300; i++) {
            byte[] v = get(again, Table.INODE, Bytes.longKey(i));
            assertEquals(i * 7 % 3000, v.length);
            assertEquals((byte) i, v[0]);
            assertArrayEquals(v, get(again, Table.CACHE_DATA, Bytes.longKey(i)));
        }
        again.writeVoid(txn -> txn.put(Table.INODE, Bytes.longKey(1), b("next")));
        assertEquals(301, again.lastJournalSeq());
    }

    /** fsck --cache-dir on a mounted cache: it must neither replay nor delete the mount's write-ahead file. */
    @Test
    void aSecondOpenerOfTheDirectoryOnlyReadsAndLeavesTheWriteAheadFileAlone() {
        Path dir = tmp.resolve("kv");
        LmdbKv kv = open(dir, LmdbKv.DEFAULT_GROUP_BYTES, NEVER);
        kv.writeVoid(txn -> txn.put(Table.INODE, Bytes.longKey(1), b("committed")));
        kv.commitPending();
        kv.writeVoid(txn -> txn.put(Table.INODE, Bytes.longKey(2), b("pending")));
        // (the second opener stands for another process; the lock is per file, so one JVM shows it too)
        try (LmdbKv reader = new LmdbKv(dir, MAP)) {
            assertArrayEquals(b("committed"), get(reader, Table.INODE, Bytes.longKey(1)));
            assertThrows(MetaException.class, () -> reader.writeVoid(txn -> txn.put(Table.INODE, Bytes.longKey(3), b("x"))));
        }
        Path copy = tmp.resolve("after-kill");
        kv.quiesced(() -> copyTree(dir, copy));
        LmdbKv again = open(copy, LmdbKv.DEFAULT_GROUP_BYTES, NEVER);
        assertArrayEquals(b("pending"), get(again, Table.INODE, Bytes.longKey(2)), "the owner's pending write is still replayable");
    }

    static void copyTree(Path from, Path to) {
        try (var s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else if (!p.getFileName().toString().equals("lock.mdb")) {
                    Files.copy(p, target);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
