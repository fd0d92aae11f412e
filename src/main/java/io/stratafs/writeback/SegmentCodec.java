package io.stratafs.writeback;

import io.stratafs.meta.BlockRef;
import io.stratafs.meta.Bytes;
import io.stratafs.meta.JournalCodec;
import io.stratafs.meta.Mutation;
import io.stratafs.meta.Table;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Journal segments as objects (docs/FORMAT.md): the magic {@code SJS1} followed by records, each:
 * sequence (8), length (4), journal record. Checkpoints, too large to build in memory, are streamed
 * by {@link CheckpointStream}; their magic lives here beside the segment's.
 */
public final class SegmentCodec {
    static final byte[] SEGMENT_MAGIC = "SJS1".getBytes(StandardCharsets.US_ASCII);
    static final byte[] CHECKPOINT_MAGIC = "SCP1".getBytes(StandardCharsets.US_ASCII);

    /** One journal record with its sequence number. */
    public record Entry(long seq, byte[] record) {
    }

    private SegmentCodec() {
    }

    public static byte[] encodeSegment(List<Entry> entries) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(SEGMENT_MAGIC);
        byte[] head = new byte[12];
        for (Entry e : entries) {
            Bytes.putLong(head, 0, e.seq());
            Bytes.putInt(head, 8, e.record().length);
            out.writeBytes(head);
            out.writeBytes(e.record());
        }
        return out.toByteArray();
    }

    public static List<Entry> decodeSegment(byte[] bytes, String name) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        checkMagic(b, SEGMENT_MAGIC, name);
        List<Entry> out = new ArrayList<>();
        while (b.hasRemaining()) {
            if (b.remaining() < 12) {
                throw new IllegalArgumentException("journal segment " + name + " is truncated");
            }
            long seq = b.getLong();
            int len = b.getInt();
            if (len < 0 || len > b.remaining()) {
                throw new IllegalArgumentException("journal segment " + name + " is truncated");
            }
            byte[] rec = new byte[len];
            b.get(rec);
            out.add(new Entry(seq, rec));
        }
        return out;
    }

    /** The blocks (SHA-256 in hex, and length) that the records put into files' block maps, in order. */
    public static Map<String, Integer> blocksNamed(List<Entry> entries) {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (Entry e : entries) {
            for (Mutation m : JournalCodec.decode(e.record())) {
                if (m.table() == Table.BLOCKMAP && !m.isDelete()) {
                    BlockRef ref = BlockRef.decode(m.value());
                    out.put(ref.hex(), ref.length());
                }
            }
        }
        return out;
    }

    private static void checkMagic(ByteBuffer b, byte[] magic, String name) {
        if (b.remaining() < magic.length) {
            throw new IllegalArgumentException(name + " is too short to be a StrataFS object");
        }
        for (byte m : magic) {
            if (b.get() != m) {
                throw new IllegalArgumentException(name + " is not a StrataFS journal segment");
            }
        }
    }
}
