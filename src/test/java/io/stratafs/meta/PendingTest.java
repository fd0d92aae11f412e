package io.stratafs.meta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The pending layer sorts a table only when it is scanned, and keeps that order from then on: scans
 * see every change in LMDB's key order whether it came before or after the first scan, point reads
 * see the newest change, and the committer gets every change table by table in key order.
 */
class PendingTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> keys(Pending p, Table t, String start) {
        List<String> out = new ArrayList<>();
        p.from(t, b(start)).forEach((k, v) -> out.add(new String(k, StandardCharsets.UTF_8)));
        return out;
    }

    @Test
    void aScanSeesChangesInKeyOrderMadeBeforeAndAfterTheFirstScanOfTheTable() {
        Pending p = new Pending();
        p.put(Table.DENTRY, b("b"), b("2"));
        p.put(Table.DENTRY, b("a"), b("1"));
        p.put(Table.INODE, b("z"), b("9"));
        assertEquals(List.of("a", "b"), keys(p, Table.DENTRY, ""));
        p.put(Table.DENTRY, b("ab"), b("3"));
        p.delete(Table.DENTRY, b("a"), 2);
        assertEquals(List.of("a", "ab", "b"), keys(p, Table.DENTRY, ""));
        assertSame(Pending.DELETED, p.from(Table.DENTRY, b("a")).firstEntry().getValue(), "a delete hides the committed value");
        assertEquals(List.of("ab", "b"), keys(p, Table.DENTRY, "aa"));
        assertEquals(List.of("z"), keys(p, Table.INODE, ""));
        assertTrue(p.from(Table.XATTR, b("")).isEmpty());
    }

    @Test
    void aGroupTakesALaterWritesChangesOverItsOwnAndKeepsItsScannedTablesSorted() {
        Pending group = new Pending();
        group.put(Table.DENTRY, b("m"), b("old"));
        group.put(Table.INODE, b("1"), b("old"));
        assertEquals(List.of("m"), keys(group, Table.DENTRY, ""));
        Pending write = new Pending();
        write.put(Table.DENTRY, b("c"), b("new"));
        write.put(Table.DENTRY, b("m"), b("new"));
        write.delete(Table.INODE, b("1"), 4);
        group.addAll(write, 7, 1);

        assertEquals(List.of("c", "m"), keys(group, Table.DENTRY, ""));
        assertArrayEquals(b("new"), group.get(Table.DENTRY, b("m")));
        assertSame(Pending.DELETED, group.get(Table.INODE, b("1")));
        assertNull(group.get(Table.XATTR, b("1")));
        assertTrue(group.puts(Table.DENTRY));
        assertFalse(group.puts(Table.INODE), "a delete is not a value put");
        assertEquals(7, group.lastWalSeq());
        assertEquals(1, group.writeCount());
    }

    @Test
    void theCommitterGetsEveryChangeTableByTableInKeyOrder() {
        Pending p = new Pending();
        p.put(Table.DENTRY, b("b"), b("1"));
        p.put(Table.INODE, b("y"), b("2"));
        p.put(Table.DENTRY, new byte[] {(byte) 0x80}, b("3"));
        p.put(Table.INODE, b("x"), b("4"));
        p.put(Table.DENTRY, b("a"), b("5"));
        List<String> seen = new ArrayList<>();
        p.forEachInOrder((t, k, v) -> seen.add(t + ":" + (k[0] < 0 ? "0x80" : new String(k, StandardCharsets.UTF_8))));
        assertEquals(List.of("INODE:x", "INODE:y", "DENTRY:a", "DENTRY:b", "DENTRY:0x80"), seen, "unsigned, as LMDB orders keys");
    }

    @Test
    void keysOfConsecutiveNumbersHashApartSoAGroupsLookupsStayInFlatBins() {
        java.util.Set<Integer> hashes = new java.util.HashSet<>();
        int n = 20_000;
        for (long i = 0; i < n; i++) {
            hashes.add(new Pending.Key(Table.INODE, Bytes.longKey(1_000_000 + i)).hashCode());
        }
        assertTrue(hashes.size() > n * 99 / 100, hashes.size() + " distinct hashes of " + n + " inode keys");
    }
}
