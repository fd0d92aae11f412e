package io.stratafs.vfs;

/** Figures for statfs: capacity and free bytes of the backing storage, and the inode count. */
public record FsStats(long totalBytes, long freeBytes, long files) {
}
