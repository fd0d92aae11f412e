package io.stratafs.fuse;

import io.stratafs.cache.BlockUnavailableException;
import io.stratafs.cache.DirtyLimitException;
import io.stratafs.meta.CacheFullException;
import io.stratafs.vfs.Errno;
import io.stratafs.vfs.FsException;

/** The one table from our exceptions to errno values. */
final class ErrnoMapper {
    private ErrnoMapper() {
    }

    static Errno map(Throwable t) {
        if (t instanceof FsException fe) {
            return fe.errno();
        }
        if (t instanceof CacheFullException || t instanceof DirtyLimitException) {
            return Errno.ENOSPC;
        }
        if (t instanceof BlockUnavailableException) {
            return Errno.EIO;
        }
        if (t instanceof IllegalArgumentException) {
            return Errno.EINVAL;
        }
        return Errno.EIO;
    }

    /** Whether an error is part of normal operation (ENOENT on lookup) rather than worth a log line. */
    static boolean routine(Errno e) {
        return switch (e) {
            case ENOENT, EEXIST, ENOTEMPTY, ENODATA, ENAMETOOLONG, ENOTDIR, EISDIR, EINVAL, ERANGE, EPERM, EACCES, ENOTSUP -> true;
            default -> false;
        };
    }
}
