package io.stratafs.vfs;

/** A POSIX error with its errno; thrown by the VFS, turned into a return code by the FUSE barrier. */
public class FsException extends Exception {
    private final Errno errno;

    public FsException(Errno errno, String message) {
        super(message, null, false, false);
        this.errno = errno;
    }

    public FsException(Errno errno, String message, Throwable cause) {
        super(message, cause, false, false);
        this.errno = errno;
    }

    public Errno errno() {
        return errno;
    }
}
