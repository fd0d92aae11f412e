package io.stratafs.vfs;

/** The process on whose behalf an operation runs (from the FUSE request context). */
public record Caller(int uid, int gid) {
    public static final Caller ROOT = new Caller(0, 0);
}
