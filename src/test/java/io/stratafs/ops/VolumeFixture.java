package io.stratafs.ops;

import io.stratafs.cache.Sha256;
import io.stratafs.config.VolumeRecord;
import io.stratafs.meta.BlockRef;
import io.stratafs.meta.Bytes;
import io.stratafs.meta.Inode;
import io.stratafs.meta.JournalCodec;
import io.stratafs.meta.Mutation;
import io.stratafs.meta.Table;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import io.stratafs.writeback.SegmentCodec;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a volume into a store the way a mount would (volume record, blocks, journal segments,
 * checkpoints in the documented format), one journal record at a time, so ops tests can build
 * exactly the history they need.
 */
final class VolumeFixture {
    static final VolumeRecord VOLUME = VolumeRecord.create("test", 64 << 10, "main");

    private VolumeFixture() {
    }

    static void format(ObjectStore store) throws StoreException {
        store.put(ObjectKeys.VOLUME, VOLUME.encode());
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String hex(byte[] block) {
        return Bytes.hex(Sha256.of(block));
    }

    static List<Mutation> root() {
        return List.of(new Mutation(Table.INODE, Bytes.longKey(1),
                new Inode(1, Inode.S_IFDIR | 0755, 0, 0, 2, 0, 0, 0, 0, 0).encode()));
    }

    /** A file in the root directory whose content is {@code blocks}; the blocks are not stored. */
    static List<Mutation> file(long ino, String name, byte[]... blocks) {
        List<Mutation> m = new ArrayList<>();
        long size = 0;
        for (byte[] b : blocks) {
            size += b.length;
        }
        m.add(new Mutation(Table.INODE, Bytes.longKey(ino), new Inode(ino, Inode.S_IFREG | 0644, 0, 0, 1, size, 0, 0, 0, 0).encode()));
        m.add(new Mutation(Table.DENTRY, Bytes.inoKey(1, bytes(name)), dentry(ino)));
        for (int i = 0; i < blocks.length; i++) {
            m.add(new Mutation(Table.BLOCKMAP, Bytes.inoKey(ino, i), new BlockRef(Sha256.of(blocks[i]), blocks[i].length).encode()));
        }
        return m;
    }

    static List<Mutation> unlink(long ino, String name, int blocks) {
        List<Mutation> m = new ArrayList<>();
        m.add(new Mutation(Table.DENTRY, Bytes.inoKey(1, bytes(name)), null));
        m.add(new Mutation(Table.INODE, Bytes.longKey(ino), null));
        for (int i = 0; i < blocks; i++) {
            m.add(new Mutation(Table.BLOCKMAP, Bytes.inoKey(ino, i), null));
        }
        return m;
    }

    static byte[] dentry(long ino) {
        byte[] v = new byte[9];
        Bytes.putLong(v, 0, ino);
        v[8] = (byte) (Inode.S_IFREG >> 12);
        return v;
    }

    static void putBlocks(ObjectStore store, byte[]... blocks) throws StoreException {
        for (byte[] b : blocks) {
            store.put(ObjectKeys.block(hex(b)), b);
        }
    }

    /** Publishes journal records {@code first, first+1, ...}, one per list of mutations, as one segment. */
    @SafeVarargs
    static void segment(ObjectStore store, String site, long first, List<Mutation>... records) throws StoreException {
        List<SegmentCodec.Entry> entries = new ArrayList<>();
        for (int i = 0; i < records.length; i++) {
            entries.add(new SegmentCodec.Entry(first + i, JournalCodec.encode(0, records[i])));
        }
        store.create(ObjectKeys.journalSegment(site, first, first + records.length - 1), SegmentCodec.encodeSegment(entries));
    }

    /** A checkpoint as of record {@code seq} holding {@code state} (every entry of the namespace). */
    static void checkpoint(ObjectStore store, String site, long seq, List<Mutation> state) throws StoreException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(bytes("SCP1"));
        out.writeBytes(Bytes.longKey(seq));
        out.writeBytes(JournalCodec.encode(0, state));
        store.create(ObjectKeys.checkpoint(site, seq), out.toByteArray());
    }

    @SafeVarargs
    static List<Mutation> all(List<Mutation>... parts) {
        List<Mutation> out = new ArrayList<>();
        for (List<Mutation> p : parts) {
            out.addAll(p);
        }
        return out;
    }
}
