package io.stratafs.meta;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes journal records: the list of mutations one transaction made, with its wall-clock time.
 * Layout (version 1, big-endian): time millis (8), count (4), then per mutation: kind (1: 1=put,
 * 2=delete), table id (1), key length (2), key, and for puts value length (4), value.
 */
public final class JournalCodec {
    private JournalCodec() {
    }

    public static byte[] encode(long timeMillis, List<Mutation> mutations) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + mutations.size() * 64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeLong(timeMillis);
            out.writeInt(mutations.size());
            for (Mutation m : mutations) {
                out.writeByte(m.isDelete() ? 2 : 1);
                out.writeByte(m.table().id());
                out.writeShort(m.key().length);
                out.write(m.key());
                if (!m.isDelete()) {
                    out.writeInt(m.value().length);
                    out.write(m.value());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    public static List<Mutation> decode(byte[] record) {
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(record))) {
            in.readLong();
            int n = in.readInt();
            List<Mutation> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int kind = in.readUnsignedByte();
                Table table = Table.byId(in.readUnsignedByte());
                byte[] key = in.readNBytes(in.readUnsignedShort());
                byte[] value = null;
                if (kind == 1) {
                    value = in.readNBytes(in.readInt());
                } else if (kind != 2) {
                    throw new IllegalArgumentException("corrupt journal record: mutation kind " + kind);
                }
                out.add(new Mutation(table, key, value));
            }
            return out;
        } catch (IOException e) {
            throw new IllegalArgumentException("corrupt journal record: " + e.getMessage(), e);
        }
    }
}
