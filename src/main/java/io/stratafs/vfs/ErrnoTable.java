package io.stratafs.vfs;

import io.stratafs.cache.BlockUnavailableException;
import io.stratafs.cache.DirtyLimitException;
import io.stratafs.meta.CacheFullException;

/**
 * The one table from exceptions to errno values, used by the vfs and by the FUSE barrier. A
 * genuine EINVAL (or any other POSIX error) is thrown as an {@link FsException} that names it;
 * anything unexpected, such as an IllegalArgumentException from a decoding bug, is EIO and is
 * logged by whoever reports it, never a quiet EINVAL.
 */
public final class ErrnoTable {
    private ErrnoTable() {
    }

    public static Errno errno(Throwable t) {
        if (t instanceof FsException fe) {
            return fe.errno();
        }
        if (t instanceof DirtyLimitException || t instanceof CacheFullException) {
            return Errno.ENOSPC;
        }
        return Errno.EIO;
    }

    /** Whether {@code t} is unexpected: a bug or an I/O failure worth a log line with its stack trace. */
    public static boolean unexpected(Throwable t) {
        return !(t instanceof FsException || t instanceof DirtyLimitException || t instanceof CacheFullException
                || t instanceof BlockUnavailableException);
    }

    static FsException toFsException(Throwable t) {
        if (t instanceof FsException fe) {
            return fe;
        }
        return new FsException(errno(t), t.getMessage() != null ? t.getMessage() : t.toString(), t);
    }
}
