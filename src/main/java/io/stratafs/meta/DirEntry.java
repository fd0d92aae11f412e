package io.stratafs.meta;

/** One name in a directory, with the file type bits of its inode's mode. */
public record DirEntry(String name, long ino, int type) {
}
