package io.stratafs.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.stratafs.store.MemoryStore;
import org.junit.jupiter.api.Test;

class SiteHeadTest {

    @Test
    void aHeadIsTinyAndReadsBack() throws Exception {
        SiteHead head = new SiteHead(42, 40, 0x1234_5678_9abcL, 1_764_000_000_000L);
        assertEquals(40, head.encode().length);
        assertEquals(head, SiteHead.decode(head.encode(), "head/A"));
        assertEquals("oplog/A/0000000000000028-000000000000002a", head.segmentKey("A"));
        MemoryStore store = new MemoryStore();
        assertNull(SiteHead.read(store, "A"));
        head.write(store, "A");
        assertEquals(head, SiteHead.read(store, "A"));
    }

    @Test
    void aDamagedHeadIsRefusedByName() {
        byte[] bytes = new SiteHead(3, 1, 9, 9).encode();
        for (int i = 0; i < bytes.length; i++) {
            byte[] bad = bytes.clone();
            bad[i] ^= 0x10;
            assertThrows(LogIntegrityException.class, () -> SiteHead.decode(bad, "head/A"), "byte " + i);
        }
        assertEquals("head/A is not a StrataFS site head (3 bytes)",
                assertThrows(LogIntegrityException.class, () -> SiteHead.decode(new byte[3], "head/A")).getMessage());
    }
}
