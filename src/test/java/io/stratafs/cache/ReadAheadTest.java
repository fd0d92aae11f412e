package io.stratafs.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The bookkeeping of blocks fetched ahead: one fetch per block, a bound kept oldest-first, let go once read through. */
class ReadAheadTest {
    private static void fetched(ReadAhead ahead, String hex, int length) {
        ReadAhead.Fetch f = ahead.claim(hex);
        assertNotNull(f, hex + " was free to claim");
        assertTrue(f.start());
        ahead.finish(hex, f, new byte[length]);
    }

    @Test
    void aBlockIsClaimedOnceUntilItsFetchEnds() {
        ReadAhead ahead = new ReadAhead(1 << 20);
        ReadAhead.Fetch f = ahead.claim("a");
        assertNotNull(f);
        assertNull(ahead.claim("a"), "in flight");
        assertTrue(f.start());
        ahead.finish("a", f, new byte[10]);
        assertNull(ahead.claim("a"), "held");
        byte[] dst = new byte[10];
        assertTrue(ahead.serve("a", 0, dst, 0, 10));
        assertNotNull(ahead.claim("a"), "read through and let go: it may be fetched again");
    }

    @Test
    void aQueuedFetchTakenOverByAReaderDoesNothing() {
        ReadAhead ahead = new ReadAhead(1 << 20);
        ReadAhead.Fetch f = ahead.claim("a");
        ahead.awaitOrTakeOver("a");
        assertFalse(f.start(), "the reader took it over");
        assertNotNull(ahead.claim("a"), "nothing is in flight any more");
    }

    @Test
    void theBoundDropsTheOldestBlocksFirst() {
        ReadAhead ahead = new ReadAhead(3000);
        fetched(ahead, "a", 1000);
        fetched(ahead, "b", 1000);
        fetched(ahead, "c", 1000);
        fetched(ahead, "d", 1000);
        assertEquals(3000, ahead.heldBytes());
        assertNull(ahead.peek("a"), "the oldest went");
        assertNotNull(ahead.peek("d"), "the newest stays");
    }

    @Test
    void aBlockIsHeldUntilEveryByteWasServedAndZerosFollowItsEnd() {
        ReadAhead ahead = new ReadAhead(1 << 20);
        fetched(ahead, "a", 100);
        byte[] dst = new byte[80];
        java.util.Arrays.fill(dst, (byte) 7);
        assertTrue(ahead.serve("a", 0, dst, 0, 60));
        assertEquals(100, ahead.heldBytes());
        assertTrue(ahead.serve("a", 60, dst, 0, 80));
        assertEquals(0, dst[79], "past the block's end reads as zeros");
        assertEquals(0, ahead.heldBytes(), "all 100 bytes served");
        assertFalse(ahead.serve("a", 0, dst, 0, 10));
    }
}
