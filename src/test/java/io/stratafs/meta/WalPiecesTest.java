package io.stratafs.meta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A write-ahead record written in pieces (large values from the caller's own arrays,
 * {@link JournalCodec#encodePieces}) holds the same bytes as the record encoded whole, and replays
 * as it.
 */
class WalPiecesTest {
    @TempDir
    Path dir;

    private static List<Mutation> mutations(Random rnd) {
        List<Mutation> ms = new ArrayList<>();
        int n = rnd.nextInt(6);
        for (int i = 0; i < n; i++) {
            byte[] key = new byte[1 + rnd.nextInt(40)];
            rnd.nextBytes(key);
            int kind = rnd.nextInt(4);
            byte[] value = kind == 0 ? null : new byte[kind == 3 ? 64 + rnd.nextInt(300) : rnd.nextInt(70)];
            if (value != null) {
                rnd.nextBytes(value);
            }
            ms.add(new Mutation(Table.values()[rnd.nextInt(Table.values().length)], key, value));
        }
        return ms;
    }

    @Test
    void piecesHoldTheWholeRecordsBytesAndLargeValuesAreNotCopied() throws Exception {
        Random rnd = new Random(11);
        for (int round = 0; round < 500; round++) {
            List<Mutation> ms = mutations(rnd);
            int before = rnd.nextInt(16);
            int after = rnd.nextInt(8);
            List<byte[]> pieces = JournalCodec.encodePieces(round, ms, before, after, 64);
            ByteArrayOutputStream joined = new ByteArrayOutputStream();
            for (byte[] p : pieces) {
                joined.write(p);
            }
            assertArrayEquals(JournalCodec.encode(round, ms, before, after), joined.toByteArray(), "round " + round + ": " + ms);
            int big = 0;
            for (Mutation m : ms) {
                if (!m.isDelete() && m.value().length >= 64) {
                    big++;
                    assertSame(m.value(), pieces.get(2 * big - 1), "a large value is its own piece, not a copy");
                }
            }
            assertEquals(2 * big + 1, pieces.size());
        }
    }

    @Test
    void aRecordWrittenInPiecesReplaysAsEncodedWhole() throws Exception {
        Random rnd = new Random(12);
        List<List<Mutation>> written = new ArrayList<>();
        try (Wal wal = new Wal(dir, 1, DiskSeam.NONE)) {
            for (long seq = 1; seq <= 50; seq++) {
                List<Mutation> ms = mutations(rnd);
                written.add(ms);
                wal.append(seq, JournalCodec.encodePieces(seq, ms, Wal.RECORD_HEAD, Wal.RECORD_TAIL, 64));
            }
            wal.sync();
        }
        List<byte[]> replayed = new ArrayList<>();
        Wal.Replayed r = Wal.replay(dir, 0, replayed::add);
        assertNull(r.stoppedBecause());
        assertEquals(50, r.applied());
        for (int i = 0; i < 50; i++) {
            byte[] whole = JournalCodec.encode(i + 1, written.get(i));
            assertArrayEquals(whole, replayed.get(i), "record " + (i + 1));
        }
    }
}
