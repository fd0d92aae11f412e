package io.stratafs.fuse.lowlevel;

/** One directory entry for {@link Request#replyDir}: the kernel uses only the inode and the type bits of {@code mode}. */
public record Dirent(String name, long ino, int mode) {
}
