package io.stratafs.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.store.ObjectKeys;
import io.stratafs.sync.Envelope;
import io.stratafs.writeback.SegmentCodec;
import java.util.List;
import org.junit.jupiter.api.Test;

class LogSegmentsTest {
    private final List<Envelope> run = new RandomEnvelopes(11).run("A", 5, 12);
    private final String key = ObjectKeys.opLogSegment("A", 5, 16);

    @Test
    void aSegmentIsNamedForItsRecordsAndReadsBackInOrder() throws Exception {
        assertEquals(key, LogSegments.key(run));
        RandomEnvelopes.assertSame(run, LogSegments.decode(LogSegments.encode(run), key));
    }

    @Test
    void everySingleBitFlipIsRefusedNamingTheSegment() {
        byte[] bytes = LogSegments.encode(run.subList(0, 3));
        String k = ObjectKeys.opLogSegment("A", 5, 7);
        for (int bit = 0; bit < bytes.length * 8; bit++) {
            byte[] bad = bytes.clone();
            bad[bit / 8] ^= (byte) (1 << (bit % 8));
            LogIntegrityException e = assertThrows(LogIntegrityException.class, () -> LogSegments.decode(bad, k), "bit " + bit);
            assertTrue(e.getMessage().contains(k), e.getMessage());
        }
    }

    @Test
    void aSegmentHoldingOtherRecordsThanItsNameSaysIsRefused() {
        byte[] bytes = LogSegments.encode(run);
        assertEquals("record 4 of log segment oplog/A/0000000000000004-000000000000000f holds sequence 5 instead",
                assertThrows(LogIntegrityException.class, () -> LogSegments.decode(bytes, ObjectKeys.opLogSegment("A", 4, 15))).getMessage());
        assertEquals("log segment oplog/A/0000000000000005-0000000000000011 ends after record 16 instead of 17",
                assertThrows(LogIntegrityException.class, () -> LogSegments.decode(bytes, ObjectKeys.opLogSegment("A", 5, 17))).getMessage());
        assertTrue(assertThrows(LogIntegrityException.class, () -> LogSegments.decode(bytes, ObjectKeys.opLogSegment("B", 5, 16)))
                .getMessage().contains("holds site A's envelope 5"));
    }

    @Test
    void aFormatOnePhysicalSegmentIsToldApartByItsMagic() {
        byte[] old = SegmentCodec.encodeSegment(List.of(new SegmentCodec.Entry(5, new byte[12])));
        String message = assertThrows(LogIntegrityException.class, () -> LogSegments.decode(old, key)).getMessage();
        assertTrue(message.contains("format-1 physical journal segment (SJS1)"), message);
    }

    @Test
    void keysThatAreNotSegmentNamesAndBatchesThatAreNotOneRunAreRefused() {
        for (String bad : new String[] {"oplog/A/x", "oplog/A/0000000000000002-0000000000000001",
                "oplog/A/0000000000000000-0000000000000001", "oplog/A/sub/0000000000000001-0000000000000001"}) {
            assertThrows(LogIntegrityException.class, () -> LogSegments.parseKey(bad), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> LogSegments.encode(List.of()));
        List<Envelope> gap = List.of(run.get(0), run.get(2));
        assertEquals("a log segment holds consecutive envelopes of one site, but A 7 follows A 5",
                assertThrows(IllegalArgumentException.class, () -> LogSegments.encode(gap)).getMessage());
    }
}
