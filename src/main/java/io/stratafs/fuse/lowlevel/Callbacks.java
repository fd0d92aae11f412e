package io.stratafs.fuse.lowlevel;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.Delegate;
import jnr.ffi.types.size_t;

/**
 * The shapes of the fuse_lowlevel_ops entries we fill, one interface per C signature (several ops
 * share one). Public only because jnr-ffi generates the native closures from them.
 */
public final class Callbacks {
    private Callbacks() {
    }

    /** lookup, unlink, rmdir, removexattr: {@code (req, ino, name)}. */
    public interface NameOp {
        @Delegate
        void call(Pointer req, long parent, Pointer name);
    }

    /** forget: {@code (req, ino, nlookup)}. */
    public interface Forget {
        @Delegate
        void call(Pointer req, long ino, long nlookup);
    }

    /** getattr, open, flush, release, opendir, releasedir: {@code (req, ino, fi)}. */
    public interface FileOp {
        @Delegate
        void call(Pointer req, long ino, Pointer fi);
    }

    /** setattr: {@code (req, ino, struct stat *attr, to_set, fi)}. */
    public interface SetAttr {
        @Delegate
        void call(Pointer req, long ino, Pointer attr, int toSet, Pointer fi);
    }

    /** mkdir: {@code (req, parent, name, mode)}. */
    public interface Mkdir {
        @Delegate
        void call(Pointer req, long parent, Pointer name, int mode);
    }

    /** rename: {@code (req, parent, name, newparent, newname)}. */
    public interface Rename {
        @Delegate
        void call(Pointer req, long parent, Pointer name, long newParent, Pointer newName);
    }

    /** link: {@code (req, ino, newparent, newname)}. */
    public interface Link {
        @Delegate
        void call(Pointer req, long ino, long newParent, Pointer newName);
    }

    /** read, readdir: {@code (req, ino, size, off, fi)}. */
    public interface Read {
        @Delegate
        void call(Pointer req, long ino, @size_t long size, long off, Pointer fi);
    }

    /** write: {@code (req, ino, buf, size, off, fi)}. */
    public interface Write {
        @Delegate
        void call(Pointer req, long ino, Pointer buf, @size_t long size, long off, Pointer fi);
    }

    /** fsync, fsyncdir: {@code (req, ino, datasync, fi)}. */
    public interface Fsync {
        @Delegate
        void call(Pointer req, long ino, int datasync, Pointer fi);
    }

    /** statfs, readlink: {@code (req, ino)}. */
    public interface Statfs {
        @Delegate
        void call(Pointer req, long ino);
    }

    /** create: {@code (req, parent, name, mode, fi)}. */
    public interface Create {
        @Delegate
        void call(Pointer req, long parent, Pointer name, int mode, Pointer fi);
    }

    /** mknod: {@code (req, parent, name, mode, rdev)}. */
    public interface Mknod {
        @Delegate
        void call(Pointer req, long parent, Pointer name, int mode, long rdev);
    }

    /** symlink: {@code (req, link, parent, name)}: the target comes first. */
    public interface Symlink {
        @Delegate
        void call(Pointer req, Pointer link, long parent, Pointer name);
    }

    /** setxattr: {@code (req, ino, name, value, size, flags)}. */
    public interface SetXattr {
        @Delegate
        void call(Pointer req, long ino, Pointer name, Pointer value, @size_t long size, int flags);
    }

    /** getxattr: {@code (req, ino, name, size)}. */
    public interface GetXattr {
        @Delegate
        void call(Pointer req, long ino, Pointer name, @size_t long size);
    }

    /** listxattr: {@code (req, ino, size)}. */
    public interface ListXattr {
        @Delegate
        void call(Pointer req, long ino, @size_t long size);
    }
}
