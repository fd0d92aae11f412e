package io.stratafs.meta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class RecordsTest {
    @Test
    void inodeRoundTrips() {
        Inode i = new Inode(7, Inode.S_IFREG | 0640, 1000, 100, 2, 123456789L, 1, 2, 3, 0);
        assertEquals(i, Inode.decode(7, i.encode()));
    }

    @Test
    void unknownInodeRecordVersionIsRejectedWithASentence() {
        byte[] rec = new Inode(7, 0, 0, 0, 1, 0, 0, 0, 0, 0).encode();
        rec[0] = 9;
        MetaException e = assertThrows(MetaException.class, () -> Inode.decode(7, rec));
        assertEquals(true, e.getMessage().contains("inode 7"));
    }

    @Test
    void journalRecordsRoundTripPutsAndDeletes() {
        List<Mutation> in = List.of(new Mutation(Table.INODE, new byte[] {1}, new byte[] {2, 3}),
                new Mutation(Table.DENTRY, new byte[] {4}, null));
        List<Mutation> out = JournalCodec.decode(JournalCodec.encode(99, in));
        assertEquals(2, out.size());
        assertArrayEquals(new byte[] {2, 3}, out.get(0).value());
        assertNull(out.get(1).value());
        assertEquals(Table.DENTRY, out.get(1).table());
    }

    @Test
    void blockRefRoundTrips() {
        byte[] h = new byte[32];
        h[31] = 5;
        BlockRef r = BlockRef.decode(new BlockRef(h, 4096).encode());
        assertArrayEquals(h, r.hash());
        assertEquals(4096, r.length());
    }
}
