package io.stratafs.fuse.lowlevel;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.types.size_t;

/**
 * The libfuse.so.2 calls the low-level API needs, as declared in fuse_lowlevel.h and fuse_common.h
 * of libfuse 2.9 (x86_64: {@code fuse_ino_t} and {@code off_t} are 64 bits). dlsym resolves each name
 * to its default symbol version (FUSE_2.6 for fuse_mount and fuse_lowlevel_new, not the compat
 * ones). Strings go in as NUL-terminated UTF-8 byte arrays: jnr-ffi would encode a String in the
 * platform charset, which is ASCII under the C locale of a systemd unit.
 */
final class Libfuse {
    /** The loaded library; loading fails at first use with a sentence when libfuse2 is missing. */
    static final Lib LIB = load();

    private Libfuse() {
    }

    private static Lib load() {
        try {
            return LibraryLoader.create(Lib.class).failImmediately().load("fuse");
        } catch (UnsatisfiedLinkError e) {
            throw new IllegalStateException("libfuse 2 is not installed (libfuse.so.2 not found); install it: apt-get install libfuse2", e);
        }
    }

    /** Public only because jnr-ffi implements it in a generated class. */
    public interface Lib {
        Pointer fuse_mount(@In byte[] mountpoint, Pointer args);

        void fuse_unmount(@In byte[] mountpoint, Pointer chan);

        Pointer fuse_lowlevel_new(Pointer args, Pointer ops, @size_t long opSize, Pointer userdata);

        void fuse_opt_free_args(Pointer args);

        void fuse_session_add_chan(Pointer session, Pointer chan);

        void fuse_session_remove_chan(Pointer chan);

        void fuse_session_destroy(Pointer session);

        int fuse_session_receive_buf(Pointer session, Pointer buf, Pointer chanOut);

        void fuse_session_process_buf(Pointer session, Pointer buf, Pointer chan);

        int fuse_session_exited(Pointer session);

        void fuse_session_exit(Pointer session);

        @size_t long fuse_chan_bufsize(Pointer chan);

        int fuse_chan_fd(Pointer chan);

        Pointer fuse_kern_chan_new(int fd);

        void fuse_chan_destroy(Pointer chan);

        int fuse_reply_err(Pointer req, int err);

        void fuse_reply_none(Pointer req);

        int fuse_reply_entry(Pointer req, Pointer entryParam);

        int fuse_reply_create(Pointer req, Pointer entryParam, Pointer fileInfo);

        int fuse_reply_attr(Pointer req, Pointer stat, double attrTimeout);

        int fuse_reply_open(Pointer req, Pointer fileInfo);

        int fuse_chan_send(Pointer chan, Pointer iov, @size_t long count);

        int fuse_reply_write(Pointer req, @size_t long count);

        int fuse_reply_buf(Pointer req, Pointer buf, @size_t long size);

        int fuse_reply_readlink(Pointer req, @In byte[] link);

        int fuse_reply_xattr(Pointer req, @size_t long count);

        int fuse_reply_statfs(Pointer req, Pointer statvfs);

        @size_t long fuse_add_direntry(Pointer req, Pointer buf, @size_t long bufsize, @In byte[] name, Pointer stat, long nextOff);

        Pointer fuse_req_ctx(Pointer req);

        int fuse_lowlevel_notify_inval_inode(Pointer chan, long ino, long off, long len);

        int fuse_lowlevel_notify_inval_entry(Pointer chan, long parent, @In byte[] name, @size_t long nameLen);
    }
}
