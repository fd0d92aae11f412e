package io.stratafs.meta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LmdbKvTest {
    @TempDir
    Path dir;
    LmdbKv kv;

    @BeforeEach
    void open() {
        kv = new LmdbKv(dir, 64L << 20);
    }

    @AfterEach
    void close() {
        kv.close();
    }

    private static byte[] b(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Test
    void changesToJournaledTablesAreAppendedToTheJournalInTheSameTransaction() {
        kv.writeVoid(txn -> {
            txn.put(Table.INODE, Bytes.longKey(5), b("five"));
            txn.put(Table.CACHE_DATA, b("k"), b("not journaled"));
        });
        assertEquals(1, kv.lastJournalSeq());
        byte[] record = kv.read(txn -> txn.get(Table.JOURNAL, Bytes.longKey(1)));
        List<Mutation> muts = JournalCodec.decode(record);
        assertEquals(1, muts.size());
        assertEquals(Table.INODE, muts.get(0).table());
        assertArrayEquals(b("five"), muts.get(0).value());
    }

    @Test
    void aTransactionThatChangesNothingJournaledAppendsNothing() {
        kv.writeVoid(txn -> txn.put(Table.CACHE_INFO, b("h"), b("x")));
        assertEquals(0, kv.lastJournalSeq());
    }

    @Test
    void anExceptionAbortsTheWholeTransaction() {
        assertThrows(IllegalStateException.class, () -> kv.writeVoid(txn -> {
            txn.put(Table.INODE, Bytes.longKey(1), b("x"));
            throw new IllegalStateException("boom");
        }));
        assertNull(kv.read(txn -> txn.get(Table.INODE, Bytes.longKey(1))));
        assertEquals(0, kv.lastJournalSeq());
    }

    @Test
    void restoreAppliesWithoutJournalingAndContinuesNumbering() {
        kv.restore(List.of(new Mutation(Table.DENTRY, b("k"), b("v")), new Mutation(Table.XATTR, b("gone"), null)), 41);
        assertArrayEquals(b("v"), kv.read(txn -> txn.get(Table.DENTRY, b("k"))));
        assertEquals(41, kv.lastJournalSeq());
        kv.writeVoid(txn -> txn.put(Table.INODE, Bytes.longKey(2), b("y")));
        assertEquals(42, kv.lastJournalSeq());
        assertNull(kv.read(txn -> txn.get(Table.JOURNAL, Bytes.longKey(41))));
    }

    @Test
    void journalNumberingSurvivesReopening() {
        kv.writeVoid(txn -> txn.put(Table.INODE, Bytes.longKey(2), b("y")));
        kv.close();
        kv = new LmdbKv(dir, 64L << 20);
        assertEquals(1, kv.lastJournalSeq());
    }

    @Test
    void scanVisitsOnlyThePrefixInOrder() {
        kv.writeVoid(txn -> {
            txn.put(Table.DENTRY, Bytes.inoKey(1, b("b")), b("1"));
            txn.put(Table.DENTRY, Bytes.inoKey(1, b("a")), b("2"));
            txn.put(Table.DENTRY, Bytes.inoKey(2, b("c")), b("3"));
        });
        List<String> seen = new java.util.ArrayList<>();
        kv.read(txn -> {
            txn.scan(Table.DENTRY, Bytes.longKey(1), (k, v) -> {
                seen.add(new String(Bytes.toArray(k), 8, k.remaining() - 8));
                return true;
            });
            return null;
        });
        assertEquals(List.of("a", "b"), seen);
    }

    @Test
    void aFullMapIsReportedAsCacheFull() {
        byte[] big = new byte[1 << 20];
        assertThrows(CacheFullException.class, () -> {
            for (int i = 0; i < 200; i++) {
                int n = i;
                kv.writeVoid(txn -> txn.put(Table.CACHE_DATA, Bytes.longKey(n), big));
            }
        });
        assertTrue(kv.usedBytes() > 0);
    }
}
