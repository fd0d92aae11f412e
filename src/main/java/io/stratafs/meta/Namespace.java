package io.stratafs.meta;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * Typed access to the namespace tables inside a caller's transaction. Holds no state: every method
 * takes the transaction, so the caller decides what commits together.
 */
public final class Namespace {
    public static final long ROOT = 1;
    private static final byte[] NEXT_INO = "next.ino".getBytes(StandardCharsets.UTF_8);

    private Namespace() {
    }

    public static Inode inode(KvTxn txn, long ino) {
        byte[] b = txn.get(Table.INODE, Bytes.longKey(ino));
        return b == null ? null : Inode.decode(ino, b);
    }

    public static void putInode(KvWriteTxn txn, Inode inode) {
        txn.put(Table.INODE, Bytes.longKey(inode.ino()), inode.encode());
    }

    public static long allocateIno(KvWriteTxn txn) {
        byte[] b = txn.get(Table.COUNTER, NEXT_INO);
        long next = b == null ? ROOT + 1 : Bytes.getLong(b, 0);
        txn.put(Table.COUNTER, NEXT_INO, Bytes.longKey(next + 1));
        return next;
    }

    private static byte[] dentryKey(long parent, String name) {
        return Bytes.inoKey(parent, name.getBytes(StandardCharsets.UTF_8));
    }

    /** The child's inode number, or 0 when the name is absent. */
    public static long lookup(KvTxn txn, long parent, String name) {
        byte[] b = txn.get(Table.DENTRY, dentryKey(parent, name));
        return b == null ? 0 : Bytes.getLong(b, 0);
    }

    /** Adds a name; {@code mode} of the child is kept in the entry so listings need no inode reads. */
    public static void link(KvWriteTxn txn, long parent, String name, long child, int mode) {
        byte[] v = new byte[9];
        Bytes.putLong(v, 0, child);
        v[8] = (byte) ((mode & Inode.S_IFMT) >>> 12);
        txn.put(Table.DENTRY, dentryKey(parent, name), v);
    }

    public static boolean unlinkName(KvWriteTxn txn, long parent, String name) {
        return txn.delete(Table.DENTRY, dentryKey(parent, name));
    }

    public static boolean isEmptyDir(KvTxn txn, long dir) {
        boolean[] empty = {true};
        txn.scan(Table.DENTRY, Bytes.longKey(dir), (k, v) -> {
            empty[0] = false;
            return false;
        });
        return empty[0];
    }

    /** Entries of a directory in name-byte order, starting after {@code afterName} (null = from the start). */
    public static List<DirEntry> list(KvTxn txn, long dir, String afterName, int max) {
        byte[] prefix = Bytes.longKey(dir);
        byte[] start = afterName == null ? prefix : Bytes.concat(dentryKey(dir, afterName), new byte[] {0});
        List<DirEntry> out = new ArrayList<>();
        txn.scan(Table.DENTRY, prefix, start, (k, v) -> {
            byte[] name = new byte[k.remaining() - 8];
            k.position(k.position() + 8);
            k.get(name);
            out.add(new DirEntry(new String(name, StandardCharsets.UTF_8), v.getLong(v.position()),
                    (v.get(v.position() + 8) & 0xff) << 12));
            return out.size() < max;
        });
        return out;
    }

    public static BlockRef block(KvTxn txn, long ino, long index) {
        byte[] b = txn.get(Table.BLOCKMAP, Bytes.inoKey(ino, index));
        return b == null ? null : BlockRef.decode(b);
    }

    public static void putBlock(KvWriteTxn txn, long ino, long index, BlockRef ref) {
        txn.put(Table.BLOCKMAP, Bytes.inoKey(ino, index), ref.encode());
    }

    /** Visits (index, ref) of every block of the file from {@code fromIndex} up to, not including, {@code untilIndex}. */
    public static void blocks(KvTxn txn, long ino, long fromIndex, long untilIndex, BiConsumer<Long, BlockRef> visitor) {
        txn.scan(Table.BLOCKMAP, Bytes.longKey(ino), Bytes.inoKey(ino, fromIndex), (k, v) -> {
            long index = k.getLong(k.position() + 8);
            if (index >= untilIndex) {
                return false;
            }
            visitor.accept(index, BlockRef.decode(Bytes.toArray(v)));
            return true;
        });
    }

    /** Drops every block entry at or after {@code fromIndex}. */
    public static void dropBlocks(KvWriteTxn txn, long ino, long fromIndex) {
        List<Long> doomed = new ArrayList<>();
        blocks(txn, ino, fromIndex, Long.MAX_VALUE, (i, ref) -> doomed.add(i));
        for (long i : doomed) {
            txn.delete(Table.BLOCKMAP, Bytes.inoKey(ino, i));
        }
    }

    public static byte[] symlinkTarget(KvTxn txn, long ino) {
        return txn.get(Table.SYMLINK, Bytes.longKey(ino));
    }

    public static void putSymlink(KvWriteTxn txn, long ino, byte[] target) {
        txn.put(Table.SYMLINK, Bytes.longKey(ino), target);
    }

    private static byte[] xattrKey(long ino, String name) {
        return Bytes.inoKey(ino, name.getBytes(StandardCharsets.UTF_8));
    }

    public static byte[] xattr(KvTxn txn, long ino, String name) {
        return txn.get(Table.XATTR, xattrKey(ino, name));
    }

    public static void putXattr(KvWriteTxn txn, long ino, String name, byte[] value) {
        txn.put(Table.XATTR, xattrKey(ino, name), value);
    }

    public static boolean removeXattr(KvWriteTxn txn, long ino, String name) {
        return txn.delete(Table.XATTR, xattrKey(ino, name));
    }

    public static List<String> xattrNames(KvTxn txn, long ino) {
        List<String> names = new ArrayList<>();
        txn.scan(Table.XATTR, Bytes.longKey(ino), (k, v) -> {
            ByteBuffer n = k.position(k.position() + 8);
            names.add(StandardCharsets.UTF_8.decode(n).toString());
            return true;
        });
        return names;
    }

    /** Removes an inode with everything hanging off it (blocks, xattrs, symlink target). */
    public static void deleteInode(KvWriteTxn txn, long ino) {
        dropBlocks(txn, ino, 0);
        for (String name : xattrNames(txn, ino)) {
            removeXattr(txn, ino, name);
        }
        txn.delete(Table.SYMLINK, Bytes.longKey(ino));
        txn.delete(Table.INODE, Bytes.longKey(ino));
    }

    /** Inodes with no names left (orphans of files that were open when unlinked). */
    public static List<Long> orphans(KvTxn txn) {
        List<Long> out = new ArrayList<>();
        txn.scan(Table.INODE, new byte[0], (k, v) -> {
            if (Bytes.getInt(Bytes.toArray(v), 13) == 0) {
                out.add(k.getLong(k.position()));
            }
            return true;
        });
        return out;
    }
}
