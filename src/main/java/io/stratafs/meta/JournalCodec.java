package io.stratafs.meta;

import java.io.DataInput;
import java.io.DataInputStream;
import java.io.DataOutput;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes journal records: the list of mutations one transaction made, with its wall-clock time.
 * Layout (version 1, big-endian): time millis (8), count (4), then per mutation: kind (1: 1=put,
 * 2=delete), table id (1), key length (2), key, and for puts value length (4), value.
 *
 * <p>Besides whole records in memory, the header and single mutations can be written and read one
 * at a time, so a checkpoint of millions of entries streams through a file instead of the heap.
 */
public final class JournalCodec {
    /** Bytes of the record header: time (8) and count (4). */
    public static final int HEADER_BYTES = 12;

    private JournalCodec() {
    }

    public static byte[] encode(long timeMillis, List<Mutation> mutations) {
        return encode(timeMillis, mutations, 0, 0);
    }

    /**
     * The record at offset {@code before} of an array with {@code after} more bytes at its end, left
     * zero: the write-ahead file frames a record there and hands it to write(2) in one call.
     */
    static byte[] encode(long timeMillis, List<Mutation> mutations, int before, int after) {
        // sized exactly: the write-ahead file encodes whole 4 MiB blocks with this, copied once
        long size = HEADER_BYTES + before + after;
        for (Mutation m : mutations) {
            size += encodedBytes(m);
        }
        if (size > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("journal record of " + size + " bytes is too large");
        }
        ByteBuffer out = ByteBuffer.allocate((int) size);
        out.position(before);
        out.putLong(timeMillis).putInt(mutations.size());
        for (Mutation m : mutations) {
            putHead(out, m);
            if (!m.isDelete()) {
                out.put(m.value());
            }
        }
        return out.array();
    }

    /** Bytes of one mutation in a record: kind, table, key length, key, and a value's length and bytes. */
    private static long encodedBytes(Mutation m) {
        return 4 + m.key().length + (m.isDelete() ? 0 : 4 + m.value().length);
    }

    /** One mutation up to its value's bytes: kind, table, key length, key, and a value's length. */
    private static void putHead(ByteBuffer out, Mutation m) {
        out.put((byte) (m.isDelete() ? 2 : 1)).put((byte) m.table().id()).putShort((short) m.key().length).put(m.key());
        if (!m.isDelete()) {
            out.putInt(m.value().length);
        }
    }

    /**
     * The record of {@link #encode(long, List, int, int)} as consecutive pieces that together hold
     * the same bytes: values of {@code inlineMax} bytes or more are pieces of their own, the
     * caller's arrays themselves, not copies (the write-ahead file writes each piece in turn: a 4
     * MiB block was copied into the framed record only to be copied again by write(2)). The first
     * piece starts with {@code before} free bytes, the last ends with {@code after}.
     */
    static List<byte[]> encodePieces(long timeMillis, List<Mutation> mutations, int before, int after, int inlineMax) {
        List<byte[]> pieces = new ArrayList<>(3);
        int start = 0;
        long inline = before;
        for (int i = 0; i <= mutations.size(); i++) {
            boolean end = i == mutations.size();
            Mutation m = end ? null : mutations.get(i);
            boolean big = !end && !m.isDelete() && m.value().length >= inlineMax;
            if (!end && !big) {
                inline += encodedBytes(m);
                continue;
            }
            // the mutations from start up to i (and the big one's own head) in one array
            int firstHead = pieces.isEmpty() ? HEADER_BYTES : 0;
            inline += firstHead + (big ? 4 + m.key().length + 4 : after);
            if (inline > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException("journal record piece of " + inline + " bytes is too large");
            }
            ByteBuffer out = ByteBuffer.allocate((int) inline);
            out.position(pieces.isEmpty() ? before : 0);
            if (pieces.isEmpty()) {
                out.putLong(timeMillis).putInt(mutations.size());
            }
            for (int j = start; j < i; j++) {
                Mutation n = mutations.get(j);
                putHead(out, n);
                if (!n.isDelete()) {
                    out.put(n.value());
                }
            }
            if (big) {
                putHead(out, m);
            }
            pieces.add(out.array());
            if (big) {
                pieces.add(m.value());
            }
            start = i + 1;
            inline = 0;
        }
        return pieces;
    }

    public static List<Mutation> decode(byte[] record) {
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(record))) {
            in.readLong();
            int n = in.readInt();
            List<Mutation> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(readMutation(in));
            }
            return out;
        } catch (IOException e) {
            throw new IllegalArgumentException("corrupt journal record: " + e.getMessage(), e);
        }
    }

    /** The wall-clock time a record was committed at, read from its header. */
    public static long timeMillis(ByteBuffer record) {
        return record.getLong(record.position());
    }

    public static void writeHeader(DataOutput out, long timeMillis, int count) throws IOException {
        out.writeLong(timeMillis);
        out.writeInt(count);
    }

    /** Writes one mutation; {@code value} null is a delete. The buffers' positions are left alone. */
    public static void writeMutation(DataOutput out, Table table, ByteBuffer key, ByteBuffer value) throws IOException {
        out.writeByte(value == null ? 2 : 1);
        out.writeByte(table.id());
        out.writeShort(key.remaining());
        write(out, key);
        if (value != null) {
            out.writeInt(value.remaining());
            write(out, value);
        }
    }

    private static void write(DataOutput out, ByteBuffer b) throws IOException {
        if (b.hasArray()) {
            out.write(b.array(), b.arrayOffset() + b.position(), b.remaining());
        } else {
            byte[] copy = new byte[b.remaining()];
            b.duplicate().get(copy);
            out.write(copy);
        }
    }

    /** Reads one mutation written by {@link #writeMutation}. */
    public static Mutation readMutation(DataInput in) throws IOException {
        int kind = in.readUnsignedByte();
        Table table = Table.byId(in.readUnsignedByte());
        byte[] key = new byte[in.readUnsignedShort()];
        in.readFully(key);
        byte[] value = null;
        if (kind == 1) {
            int len = in.readInt();
            if (len < 0) {
                throw new IllegalArgumentException("corrupt journal record: negative value length " + len);
            }
            value = new byte[len];
            in.readFully(value);
        } else if (kind != 2) {
            throw new IllegalArgumentException("corrupt journal record: mutation kind " + kind);
        }
        return new Mutation(table, key, value);
    }
}
