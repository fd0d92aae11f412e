package io.stratafs.fuse.lowlevel;

/**
 * The members of libfuse 2.9's {@code struct fuse_lowlevel_ops}, in header order: every member is
 * one function pointer, so a member's offset is its ordinal times the pointer size and the struct
 * is 41 pointers (328 bytes on x86_64). libfuse copies only {@code op_size} bytes and leaves later
 * members NULL, and answers ENOSYS (or a default) for every NULL member, so a filesystem fills
 * only what it implements. Reordering or dropping a constant shifts every later callback onto the
 * wrong operation.
 */
enum OpsSlot {
    INIT, DESTROY, LOOKUP, FORGET, GETATTR, SETATTR, READLINK, MKNOD, MKDIR, UNLINK, RMDIR, SYMLINK, RENAME,
    LINK, OPEN, READ, WRITE, FLUSH, RELEASE, FSYNC, OPENDIR, READDIR, RELEASEDIR, FSYNCDIR, STATFS, SETXATTR,
    GETXATTR, LISTXATTR, REMOVEXATTR, ACCESS, CREATE, GETLK, SETLK, BMAP, IOCTL, POLL, WRITE_BUF,
    RETRIEVE_REPLY, FORGET_MULTI, FLOCK, FALLOCATE
}
