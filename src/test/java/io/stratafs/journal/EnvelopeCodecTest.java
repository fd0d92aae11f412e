package io.stratafs.journal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.sync.Envelope;
import io.stratafs.sync.Manifest;
import io.stratafs.sync.Op;
import io.stratafs.sync.OpId;
import io.stratafs.sync.VersionVector;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EnvelopeCodecTest {

    @Test
    void randomEnvelopesOfEveryKindSurviveARoundTripAndEncodeTheSameTwice() throws Exception {
        for (long seed = 0; seed < 300; seed++) {
            RandomEnvelopes random = new RandomEnvelopes(seed);
            for (int kind = 0; kind < RandomEnvelopes.KINDS; kind++) {
                Envelope e = random.envelope("A", 1 + seed, kind);
                byte[] bytes = EnvelopeCodec.encode(e);
                Envelope back = EnvelopeCodec.decode(bytes, "seed " + seed);
                RandomEnvelopes.assertSame(e, back);
                assertArrayEquals(bytes, EnvelopeCodec.encode(back), "seed " + seed + " kind " + kind);
            }
        }
    }

    @Test
    void depsEncodeTheSameWhateverTheMapOrder() {
        Map<String, Long> forward = new LinkedHashMap<>();
        Map<String, Long> backward = new LinkedHashMap<>();
        for (int i = 0; i < 20; i++) {
            forward.put("s" + i, (long) i);
        }
        for (int i = 19; i >= 0; i--) {
            backward.put("s" + i, (long) i);
        }
        Op op = new Op.Remove(new OpId(5, "A"), new OpId(3, "B"), new Op.Seen(new OpId(3, "B"), null));
        assertArrayEquals(EnvelopeCodec.encode(new Envelope("A", 1, forward, op)),
                EnvelopeCodec.encode(new Envelope("A", 1, new HashMap<>(backward), op)));
    }

    @Test
    void everyTruncationIsRefusedNamingTheRecord() {
        Envelope e = new RandomEnvelopes(7).envelope("A", 9, 6);
        byte[] bytes = EnvelopeCodec.encode(e);
        for (int n = 0; n < bytes.length; n++) {
            byte[] cut = Arrays.copyOf(bytes, n);
            LogIntegrityException x = assertThrows(LogIntegrityException.class, () -> EnvelopeCodec.decode(cut, "record 9 of X"));
            assertTrue(x.getMessage().startsWith("record 9 of X"), x.getMessage());
        }
    }

    @Test
    void trailingBytesAnUnknownVersionAndAnUnknownKindAreRefused() {
        byte[] bytes = EnvelopeCodec.encode(new RandomEnvelopes(3).envelope("A", 1, 1));
        byte[] longer = Arrays.copyOf(bytes, bytes.length + 2);
        assertEquals("X has 2 bytes after its end",
                assertThrows(LogIntegrityException.class, () -> EnvelopeCodec.decode(longer, "X")).getMessage());
        byte[] v2 = bytes.clone();
        v2[0] = 2;
        assertTrue(assertThrows(LogIntegrityException.class, () -> EnvelopeCodec.decode(v2, "X")).getMessage()
                .contains("version 2, which this StrataFS cannot read"));
    }

    @Test
    void anEnvelopeOfAnotherSiteThanItsOperationIsRefusedOnDecode() {
        byte[] bytes = EnvelopeCodec.encode(new Envelope("A", 1, Map.of(),
                new Op.Link(new OpId(9, "A"), new OpId(1, "A"), OpId.ROOT, "x")));
        // the envelope's site is the first string: "A" -> "B" keeps every length
        bytes[1 + 4] = 'B';
        String message = assertThrows(LogIntegrityException.class, () -> EnvelopeCodec.decode(bytes, "X")).getMessage();
        assertTrue(message.startsWith("X is not a valid operation: "), message);
    }

    @Test
    void whatNoPeerCouldDecodeIsRefusedOnEncode() {
        Op broken = new Op.Create(new OpId(1, "A"), OpId.ROOT, "bad\uD800name", 0100644, 0, 0, 0, null);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> EnvelopeCodec.encode(new Envelope("A", 1, Map.of(), broken)))
                .getMessage().contains("is not valid Unicode"));
        Op noSeen = new Op.Remove(new OpId(1, "A"), new OpId(0, "B"), null);
        assertEquals("an operation's seen is missing",
                assertThrows(IllegalArgumentException.class, () -> EnvelopeCodec.encode(new Envelope("A", 1, Map.of(), noSeen))).getMessage());
        Op shortHash = new Op.Write(new OpId(1, "A"), new OpId(0, "B"), VersionVector.EMPTY,
                new Manifest(1, java.util.List.of(new Manifest.Block(0, new io.stratafs.meta.BlockRef(new byte[5], 1)))), 0);
        assertEquals("block 0 has no 32-byte SHA-256",
                assertThrows(IllegalArgumentException.class, () -> EnvelopeCodec.encode(new Envelope("A", 1, Map.of(), shortHash))).getMessage());
    }
}
