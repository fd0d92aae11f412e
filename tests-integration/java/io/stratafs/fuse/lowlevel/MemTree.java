package io.stratafs.fuse.lowlevel;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An in-memory inode tree for testing and measuring the FUSE bindings: files, directories, hard
 * links, and files that live on while open after their last name is gone. One lock guards it all.
 * With {@code keepData} false it is a null filesystem for data: writes only grow the size and reads
 * return zeros, so a 1 GiB benchmark file costs no heap.
 */
public final class MemTree {
    /** A failed operation, with the errno to answer. */
    public static final class FsError extends RuntimeException {
        public final int errno;

        FsError(int errno) {
            super("errno " + errno, null, false, false);
            this.errno = errno;
        }
    }

    public static final int ENOENT = 2;
    public static final int EEXIST = 17;
    public static final int ENOTDIR = 20;
    public static final int EISDIR = 21;
    public static final int ENOTEMPTY = 39;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFREG = 0100000;

    private static final class Node {
        final long ino;
        int mode;
        long nlink;
        int uid;
        int gid;
        long size;
        byte[] data = new byte[0];
        long atime;
        long mtime;
        long ctime;
        int opens;
        final TreeMap<String, Long> children;

        Node(long ino, int mode, int uid, int gid, long now) {
            this.ino = ino;
            this.mode = mode;
            this.uid = uid;
            this.gid = gid;
            this.atime = now;
            this.mtime = now;
            this.ctime = now;
            this.children = (mode & S_IFDIR) != 0 ? new TreeMap<>() : null;
        }
    }

    private final boolean keepData;
    private final Map<Long, Node> nodes = new HashMap<>();
    private long nextIno = LowLevelFileSystem.ROOT + 1;

    public MemTree(boolean keepData) {
        this.keepData = keepData;
        Node root = new Node(LowLevelFileSystem.ROOT, S_IFDIR | 0777, 0, 0, System.currentTimeMillis() * 1_000_000L);
        root.nlink = 2;
        nodes.put(root.ino, root);
    }

    public synchronized Attr attr(long ino) {
        Node n = node(ino);
        return new Attr(n.ino, n.mode, n.nlink, n.uid, n.gid, n.size, n.atime, n.mtime, n.ctime);
    }

    public synchronized long lookup(long parent, String name) {
        Long ino = dir(parent).children.get(name);
        if (ino == null) {
            throw new FsError(ENOENT);
        }
        return ino;
    }

    /** Creates a file ({@code mode} with S_IFREG) or a directory (S_IFDIR) and returns its inode. */
    public synchronized long make(long parent, String name, int mode, int uid, int gid) {
        Node d = dir(parent);
        if (d.children.containsKey(name)) {
            throw new FsError(EEXIST);
        }
        Node n = new Node(nextIno++, mode, uid, gid, now());
        n.nlink = n.children != null ? 2 : 1;
        if (n.children != null) {
            d.nlink++;
        }
        nodes.put(n.ino, n);
        d.children.put(name, n.ino);
        d.mtime = d.ctime = now();
        return n.ino;
    }

    public synchronized void link(long ino, long parent, String name) {
        Node d = dir(parent);
        Node n = node(ino);
        if (n.children != null) {
            throw new FsError(EISDIR);
        }
        if (d.children.containsKey(name)) {
            throw new FsError(EEXIST);
        }
        d.children.put(name, ino);
        n.nlink++;
        n.ctime = d.mtime = d.ctime = now();
    }

    /** Removes a name of a file ({@code dir} false) or an empty directory ({@code dir} true). */
    public synchronized void remove(long parent, String name, boolean wantDir) {
        Node d = dir(parent);
        Node n = node(lookup(parent, name));
        if (wantDir && n.children == null) {
            throw new FsError(ENOTDIR);
        }
        if (!wantDir && n.children != null) {
            throw new FsError(EISDIR);
        }
        if (wantDir && !n.children.isEmpty()) {
            throw new FsError(ENOTEMPTY);
        }
        d.children.remove(name);
        dropName(d, n);
    }

    private void dropName(Node d, Node n) {
        n.nlink -= n.children != null ? 2 : 1;
        if (n.children != null) {
            d.nlink--;
        }
        n.ctime = d.mtime = d.ctime = now();
        if (n.nlink <= 0 && n.opens == 0) {
            nodes.remove(n.ino);
        }
    }

    public synchronized void rename(long parent, String name, long newParent, String newName) {
        Node from = dir(parent);
        Node to = dir(newParent);
        long ino = lookup(parent, name);
        Long old = to.children.get(newName);
        if (old != null && old == ino) {
            return;
        }
        Node moving = node(ino);
        if (old != null) {
            Node target = node(old);
            if (target.children != null && !target.children.isEmpty()) {
                throw new FsError(ENOTEMPTY);
            }
            to.children.remove(newName);
            dropName(to, target);
        }
        from.children.remove(name);
        to.children.put(newName, ino);
        if (moving.children != null && from != to) {
            from.nlink--;
            to.nlink++;
        }
        moving.ctime = from.mtime = to.mtime = now();
    }

    public synchronized void open(long ino) {
        node(ino).opens++;
    }

    public synchronized void release(long ino) {
        Node n = nodes.get(ino);
        if (n != null && --n.opens == 0 && n.nlink <= 0) {
            nodes.remove(ino);
        }
    }

    /** Applies a setattr; an absent field stays. */
    public synchronized Attr setattr(long ino, SetAttrs c) {
        Node n = node(ino);
        c.mode().ifPresent(m -> n.mode = (n.mode & ~07777) | (m & 07777));
        c.uid().ifPresent(u -> n.uid = u);
        c.gid().ifPresent(g -> n.gid = g);
        c.size().ifPresent(s -> resize(n, s));
        c.atimeNs().ifPresent(t -> n.atime = t);
        c.mtimeNs().ifPresent(t -> n.mtime = t);
        if (c.atimeNow()) {
            n.atime = now();
        }
        if (c.mtimeNow()) {
            n.mtime = now();
        }
        n.ctime = now();
        return attr(ino);
    }

    public synchronized int read(long ino, long off, byte[] into, int len) {
        Node n = node(ino);
        int count = (int) Math.max(0, Math.min(len, n.size - off));
        if (keepData) {
            System.arraycopy(n.data, (int) off, into, 0, count);
        } else {
            java.util.Arrays.fill(into, 0, count, (byte) 0);
        }
        return count;
    }

    public synchronized int write(long ino, long off, ByteBuffer src) {
        Node n = node(ino);
        int len = src.remaining();
        if (off + len > n.size) {
            resize(n, off + len);
        }
        if (keepData) {
            src.get(n.data, (int) off, len);
        }
        n.mtime = n.ctime = now();
        return len;
    }

    /** The entries of a directory, "." and ".." first. */
    public synchronized List<Dirent> list(long ino, long parentIno) {
        Node d = dir(ino);
        List<Dirent> out = new ArrayList<>(d.children.size() + 2);
        out.add(new Dirent(".", ino, S_IFDIR));
        out.add(new Dirent("..", parentIno, S_IFDIR));
        for (Map.Entry<String, Long> e : d.children.entrySet()) {
            out.add(new Dirent(e.getKey(), e.getValue(), nodes.get(e.getValue()).mode));
        }
        return out;
    }

    private void resize(Node n, long size) {
        if (keepData && size > n.data.length) {
            n.data = java.util.Arrays.copyOf(n.data, Math.toIntExact(Math.max(size, 2L * n.data.length)));
        } else if (keepData && size < n.size) {
            java.util.Arrays.fill(n.data, (int) size, (int) n.size, (byte) 0);
        }
        n.size = size;
    }

    private Node node(long ino) {
        Node n = nodes.get(ino);
        if (n == null) {
            throw new FsError(ENOENT);
        }
        return n;
    }

    private Node dir(long ino) {
        Node n = node(ino);
        if (n.children == null) {
            throw new FsError(ENOTDIR);
        }
        return n;
    }

    private static long now() {
        return System.currentTimeMillis() * 1_000_000L;
    }
}
