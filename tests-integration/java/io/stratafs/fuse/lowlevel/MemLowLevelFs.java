package io.stratafs.fuse.lowlevel;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@link MemTree} served through the low-level binding, with fixed attribute and entry timeouts
 * (what the kernel may cache without asking again). A directory handle keeps the listing taken at
 * opendir, so a readdir in several parts sees one consistent list.
 */
public final class MemLowLevelFs implements LowLevelFileSystem {
    private static final ThreadLocal<byte[]> READ_BUF = ThreadLocal.withInitial(() -> new byte[128 << 10]);
    private final MemTree tree;
    private final double attrTimeout;
    private final double entryTimeout;
    private final Map<Long, List<Dirent>> listings = new ConcurrentHashMap<>();
    private final AtomicLong nextHandle = new AtomicLong(1);
    private volatile CountDownLatch statfsEntered;
    private volatile CountDownLatch statfsReleased;

    public MemLowLevelFs(MemTree tree, double attrTimeout, double entryTimeout) {
        this.tree = tree;
        this.attrTimeout = attrTimeout;
        this.entryTimeout = entryTimeout;
    }

    public MemTree tree() {
        return tree;
    }

    /** From now on a statfs counts {@code entered} down, then waits for {@code released} before it answers. */
    public void holdStatfs(CountDownLatch entered, CountDownLatch released) {
        statfsReleased = released;
        statfsEntered = entered;
    }

    @Override
    public void statfs(Request r, long ino) {
        CountDownLatch entered = statfsEntered;
        if (entered != null) {
            entered.countDown();
            try {
                statfsReleased.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        r.replyStatfs(4096, 1 << 20, 1 << 19, 1 << 16, 1 << 15, 255);
    }

    @FunctionalInterface
    private interface Body {
        void run();
    }

    /** Answers an expected failure with its errno. */
    private static void guard(Request r, Body body) {
        try {
            body.run();
        } catch (MemTree.FsError e) {
            r.replyErr(e.errno);
        }
    }

    @Override
    public void lookup(Request r, long parent, String name) {
        guard(r, () -> r.replyEntry(tree.attr(tree.lookup(parent, name)), attrTimeout, entryTimeout));
    }

    @Override
    public void getattr(Request r, long ino) {
        guard(r, () -> r.replyAttr(tree.attr(ino), attrTimeout));
    }

    @Override
    public void setattr(Request r, long ino, SetAttrs changes) {
        guard(r, () -> r.replyAttr(tree.setattr(ino, changes), attrTimeout));
    }

    @Override
    public void mkdir(Request r, long parent, String name, int mode) {
        guard(r, () -> r.replyEntry(tree.attr(tree.make(parent, name, 0040000 | (mode & 07777), r.uid(), r.gid())),
                attrTimeout, entryTimeout));
    }

    @Override
    public void create(Request r, long parent, String name, int mode, OpenFile fi) {
        guard(r, () -> {
            long ino = tree.make(parent, name, 0100000 | (mode & 07777), r.uid(), r.gid());
            tree.open(ino);
            r.replyCreate(tree.attr(ino), attrTimeout, entryTimeout, fi);
        });
    }

    @Override
    public void unlink(Request r, long parent, String name) {
        guard(r, () -> {
            tree.remove(parent, name, false);
            r.replyErr(0);
        });
    }

    @Override
    public void rmdir(Request r, long parent, String name) {
        guard(r, () -> {
            tree.remove(parent, name, true);
            r.replyErr(0);
        });
    }

    @Override
    public void rename(Request r, long parent, String name, long newParent, String newName) {
        guard(r, () -> {
            tree.rename(parent, name, newParent, newName);
            r.replyErr(0);
        });
    }

    @Override
    public void link(Request r, long ino, long newParent, String newName) {
        guard(r, () -> {
            tree.link(ino, newParent, newName);
            r.replyEntry(tree.attr(ino), attrTimeout, entryTimeout);
        });
    }

    @Override
    public void open(Request r, long ino, OpenFile fi) {
        guard(r, () -> {
            tree.open(ino);
            r.replyOpen(fi);
        });
    }

    @Override
    public void release(Request r, long ino, long fh) {
        tree.release(ino);
        r.replyErr(0);
    }

    @Override
    public void read(Request r, long ino, long size, long off, long fh) {
        guard(r, () -> {
            byte[] buf = READ_BUF.get();
            if (buf.length < size) {
                buf = new byte[(int) size];
                READ_BUF.set(buf);
            }
            int n = tree.read(ino, off, buf, (int) size);
            r.replyBuf(buf, 0, n);
        });
    }

    @Override
    public void write(Request r, long ino, ByteBuffer data, long off, long fh) {
        guard(r, () -> r.replyWrite(tree.write(ino, off, data)));
    }

    @Override
    public void opendir(Request r, long ino, OpenFile fi) {
        guard(r, () -> {
            long h = nextHandle.getAndIncrement();
            listings.put(h, tree.list(ino, ino));
            fi.fh(h);
            r.replyOpen(fi);
        });
    }

    @Override
    public void readdir(Request r, long ino, long size, long off, long fh) {
        r.replyDir(listings.getOrDefault(fh, List.of()), off, size);
    }

    @Override
    public void releasedir(Request r, long ino, long fh) {
        listings.remove(fh);
        r.replyErr(0);
    }
}
