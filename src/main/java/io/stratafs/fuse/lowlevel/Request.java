package io.stratafs.fuse.lowlevel;

import static io.stratafs.fuse.lowlevel.Libfuse.LIB;

import io.stratafs.os.Libc;
import java.util.List;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import ru.serce.jnrfuse.struct.Statvfs;

/**
 * One request from the kernel ({@code fuse_req_t}); the filesystem answers it with exactly one reply
 * (forget with {@link #replyNone}). A reply frees the request in libfuse, so this object must not be
 * used after it. Replies build their structures in native memory owned by the serving thread (the
 * loop threads of {@link LowLevelMount}), so a reply allocates nothing native.
 */
public final class Request {
    /** {@code struct fuse_entry_param}: ino, generation, struct stat (144 bytes), two doubles. */
    static final int ENTRY_PARAM_BYTES = 176;
    static final int ENTRY_ATTR_OFFSET = 16;
    static final int ENTRY_ATTR_TIMEOUT_OFFSET = 160;
    static final int ENTRY_TIMEOUT_OFFSET = 168;
    static final int STAT_BYTES = 144;
    static final int STATVFS_BYTES = 112;
    private static final int ERANGE = 34;
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** {@code struct fuse_out_header} (len, error, unique) and {@code struct fuse_open_out} (fh, open_flags, padding). */
    static final int OPEN_REPLY_BYTES = 32;
    /** Where libfuse 2.9's {@code struct fuse_req} keeps the request's id: after the {@code struct fuse_ll *}. */
    static final int REQ_UNIQUE_OFFSET = 8;
    static final int FOPEN_DIRECT_IO = 1;
    static final int FOPEN_KEEP_CACHE = 1 << 1;
    static final int FOPEN_NOFLUSH = 1 << 5;
    private static final int IOVEC_BYTES = 16;

    private final Pointer req;
    /** The session's channel, on which {@link #replyOpen} sends a reply it writes itself. */
    private final Pointer chan;
    private Pointer ctx;
    private boolean replied;

    Request(Pointer req, Pointer chan) {
        this.req = req;
        this.chan = chan;
    }

    /** The caller's uid, gid and pid from {@code struct fuse_ctx}. */
    public int uid() {
        return ctx().getInt(0);
    }

    public int gid() {
        return ctx().getInt(4);
    }

    public int pid() {
        return ctx().getInt(8);
    }

    /** Asked of libfuse once per request: a create wants uid and gid, each a native call before. */
    private Pointer ctx() {
        if (ctx == null) {
            ctx = LIB.fuse_req_ctx(req);
        }
        return ctx;
    }

    boolean replied() {
        return replied;
    }

    /** Fails the call with {@code errno} (a positive number such as ENOENT). */
    public void replyErr(int errno) {
        done();
        LIB.fuse_reply_err(req, errno);
    }

    public void replyNone() {
        done();
        LIB.fuse_reply_none(req);
    }

    /** Answers lookup, mkdir, link (and mknod/symlink): the kernel keeps one inode per {@code attr.ino()}. */
    public void replyEntry(Attr attr, double attrTimeout, double entryTimeout) {
        done();
        LIB.fuse_reply_entry(req, entry(attr, attrTimeout, entryTimeout));
    }

    public void replyCreate(Attr attr, double attrTimeout, double entryTimeout, OpenFile fi) {
        done();
        LIB.fuse_reply_create(req, entry(attr, attrTimeout, entryTimeout), fi.memory());
    }

    public void replyAttr(Attr attr, double attrTimeout) {
        done();
        Scratch s = SCRATCH.get();
        zero(s.statMemory, STAT_BYTES);
        attr.fill(s.statMemory, 0);
        LIB.fuse_reply_attr(req, s.statMemory, attrTimeout);
    }

    /**
     * Answers an open. With {@link OpenFile#noFlush} the reply is written here, since libfuse 2's
     * {@code fuse_reply_open} only knows the direct_io, keep_cache and nonseekable flags: the
     * protocol's header and {@code fuse_open_out} go out through libfuse's own channel send (one
     * write to /dev/fuse, as libfuse does), then {@code fuse_reply_none} frees the request without
     * sending anything more.
     */
    public void replyOpen(OpenFile fi) {
        done();
        if (!fi.noFlush()) {
            LIB.fuse_reply_open(req, fi.memory());
            return;
        }
        int flags = FOPEN_NOFLUSH | (fi.keepCache() ? FOPEN_KEEP_CACHE : 0) | (fi.directIo() ? FOPEN_DIRECT_IO : 0);
        Pointer iov = SCRATCH.get().openReply;
        Pointer message = iov.slice(IOVEC_BYTES);
        openReply(message, req.getLong(REQ_UNIQUE_OFFSET), fi.fh(), flags);
        iov.putPointer(0, message);
        iov.putLong(8, OPEN_REPLY_BYTES);
        LIB.fuse_chan_send(chan, iov, 1);
        LIB.fuse_reply_none(req);
    }

    /** Writes the kernel's answer to an open: {@code fuse_out_header} then {@code fuse_open_out}, little-endian as the host. */
    static void openReply(Pointer into, long unique, long fh, int openFlags) {
        into.putInt(0, OPEN_REPLY_BYTES);
        into.putInt(4, 0);
        into.putLong(8, unique);
        into.putLong(16, fh);
        into.putInt(24, openFlags);
        into.putInt(28, 0);
    }

    public void replyWrite(long count) {
        done();
        LIB.fuse_reply_write(req, count);
    }

    /** Answers a read with {@code len} bytes of {@code data} from {@code off}; fewer than asked means end of file. */
    public void replyBuf(byte[] data, int off, int len) {
        done();
        Pointer buf = SCRATCH.get().buffer(len);
        buf.put(0, data, off, len);
        LIB.fuse_reply_buf(req, buf, len);
    }

    /**
     * Answers a readdir of at most {@code size} bytes starting at {@code off}, the index in
     * {@code entries} where the previous reply stopped (each entry's offset is its index plus one).
     */
    public void replyDir(List<Dirent> entries, long off, long size) {
        done();
        Scratch s = SCRATCH.get();
        Pointer buf = s.buffer((int) size);
        long used = 0;
        for (int i = (int) off; i < entries.size(); i++) {
            Dirent d = entries.get(i);
            zero(s.statMemory, STAT_BYTES);
            s.statMemory.putLong(Attr.ST_INO, d.ino());
            s.statMemory.putInt(Attr.ST_MODE, d.mode());
            byte[] name = Libc.cString(d.name());
            long need = LIB.fuse_add_direntry(req, buf.slice(used), size - used, name, s.statMemory, i + 1);
            if (need > size - used) {
                break;
            }
            used += need;
        }
        LIB.fuse_reply_buf(req, buf, used);
    }

    /** Answers readlink with the link's target. */
    public void replyReadlink(byte[] target) {
        done();
        byte[] c = new byte[target.length + 1];
        System.arraycopy(target, 0, c, 0, target.length);
        LIB.fuse_reply_readlink(req, c);
    }

    /** Answers a getxattr or listxattr of size 0: how many bytes the value (or list) takes. */
    public void replyXattr(long count) {
        done();
        LIB.fuse_reply_xattr(req, count);
    }

    /**
     * Answers a getxattr or listxattr by the protocol: the length when {@code size} is 0, ERANGE
     * when {@code value} does not fit in {@code size}, else the value.
     */
    public void replyXattrValue(byte[] value, long size) {
        if (size == 0) {
            replyXattr(value.length);
        } else if (size < value.length) {
            replyErr(ERANGE);
        } else {
            replyBuf(value, 0, value.length);
        }
    }

    public void replyStatfs(long blockSize, long blocks, long blocksFree, long files, long filesFree, long nameMax) {
        done();
        Scratch s = SCRATCH.get();
        zero(s.statvfsMemory, STATVFS_BYTES);
        s.statvfs.f_bsize.set(blockSize);
        s.statvfs.f_frsize.set(blockSize);
        s.statvfs.f_blocks.set(blocks);
        s.statvfs.f_bfree.set(blocksFree);
        s.statvfs.f_bavail.set(blocksFree);
        s.statvfs.f_files.set(files);
        s.statvfs.f_ffree.set(filesFree);
        s.statvfs.f_favail.set(filesFree);
        s.statvfs.f_namemax.set(nameMax);
        LIB.fuse_reply_statfs(req, s.statvfsMemory);
    }

    private Pointer entry(Attr attr, double attrTimeout, double entryTimeout) {
        Scratch s = SCRATCH.get();
        zero(s.entryMemory, ENTRY_PARAM_BYTES);
        s.entryMemory.putLong(0, attr.ino());
        attr.fill(s.entryMemory, ENTRY_ATTR_OFFSET);
        s.entryMemory.putDouble(ENTRY_ATTR_TIMEOUT_OFFSET, attrTimeout);
        s.entryMemory.putDouble(ENTRY_TIMEOUT_OFFSET, entryTimeout);
        return s.entryMemory;
    }

    private void done() {
        if (replied) {
            throw new IllegalStateException("a FUSE request was answered twice");
        }
        replied = true;
    }

    private static void zero(Pointer p, int bytes) {
        p.setMemory(0, bytes, (byte) 0);
    }


    /** Native memory of one serving thread, reused by every reply it sends. */
    private static final class Scratch {
        private final Runtime runtime = Runtime.getSystemRuntime();
        final Pointer entryMemory = Memory.allocateDirect(runtime, ENTRY_PARAM_BYTES, true);
        final Pointer statMemory = Memory.allocateDirect(runtime, STAT_BYTES, true);
        final Pointer statvfsMemory = Memory.allocateDirect(runtime, STATVFS_BYTES, true);
        final Statvfs statvfs = Statvfs.of(statvfsMemory);
        /** An iovec and the open reply it points at. */
        final Pointer openReply = Memory.allocateDirect(runtime, IOVEC_BYTES + OPEN_REPLY_BYTES, true);
        private Pointer buffer = Memory.allocateDirect(runtime, 128 << 10);

        Pointer buffer(int size) {
            if (buffer.size() < size) {
                buffer = Memory.allocateDirect(runtime, size);
            }
            return buffer;
        }
    }
}
