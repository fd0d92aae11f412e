package io.stratafs.writeback;

import io.stratafs.meta.JournalCodec;
import io.stratafs.meta.Kv;
import io.stratafs.meta.KvTxn;
import io.stratafs.meta.Mutation;
import io.stratafs.meta.Table;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Checkpoints (docs/FORMAT.md) written and read one entry at a time: a volume with millions of
 * entries is encoded from an LMDB read transaction into a file and restored in batches of
 * {@link #RESTORE_BATCH} entries per LMDB transaction, so neither side ever holds the whole
 * namespace in the heap (the daemon runs with 512 MiB).
 */
final class CheckpointStream {
    static final int RESTORE_BATCH = 10_000;
    /** Where the entry count sits in a checkpoint: magic (4), sequence (8), time (8). */
    private static final long COUNT_OFFSET = SegmentCodec.CHECKPOINT_MAGIC.length + 8 + 8;

    private CheckpointStream() {
    }

    /**
     * Encodes every entry of every journaled table visible in {@code txn} as the checkpoint of
     * record {@code seq} into {@code file} (replaced if present); returns the number of entries.
     */
    static long write(KvTxn txn, long seq, long timeMillis, Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            long[] count = {0};
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16));
            out.write(SegmentCodec.CHECKPOINT_MAGIC);
            out.writeLong(seq);
            // the count is not known until the scan ends; it is patched in place below
            JournalCodec.writeHeader(out, timeMillis, 0);
            for (Table t : Table.values()) {
                if (t.journaled()) {
                    txn.scan(t, new byte[0], (k, v) -> {
                        try {
                            JournalCodec.writeMutation(out, t, k, v);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                        count[0]++;
                        return true;
                    });
                }
            }
            out.flush();
            if (count[0] > Integer.MAX_VALUE) {
                throw new IOException("the namespace has " + count[0] + " entries, more than a checkpoint can hold");
            }
            ch.write(ByteBuffer.allocate(4).putInt(0, (int) count[0]), COUNT_OFFSET);
            ch.force(true);
            return count[0];
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /**
     * Applies the checkpoint read from {@code in} to {@code kv} in batches and returns the journal
     * record it reflects. A checkpoint that is cut short or carries trailing bytes is refused.
     */
    static long restore(InputStream in, String name, Kv kv) throws IOException {
        DataInputStream data = new DataInputStream(new BufferedInputStream(in, 1 << 16));
        try {
            byte[] magic = new byte[SegmentCodec.CHECKPOINT_MAGIC.length];
            data.readFully(magic);
            if (!java.util.Arrays.equals(magic, SegmentCodec.CHECKPOINT_MAGIC)) {
                throw new IllegalArgumentException(name + " is not a StrataFS checkpoint");
            }
            long seq = data.readLong();
            data.readLong();
            long count = Integer.toUnsignedLong(data.readInt());
            List<Mutation> batch = new ArrayList<>(RESTORE_BATCH);
            for (long i = 0; i < count; i++) {
                batch.add(JournalCodec.readMutation(data));
                if (batch.size() == RESTORE_BATCH) {
                    kv.restore(batch, seq);
                    batch.clear();
                }
            }
            if (data.read() != -1) {
                throw new IllegalArgumentException("checkpoint " + name + " has bytes after its " + count + " entries");
            }
            kv.restore(batch, seq);
            return seq;
        } catch (EOFException e) {
            throw new IllegalArgumentException("checkpoint " + name + " is truncated", e);
        }
    }
}
