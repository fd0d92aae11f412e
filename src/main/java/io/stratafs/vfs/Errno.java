package io.stratafs.vfs;

/** The errno vocabulary shared by every layer (Linux numbers). */
public enum Errno {
    EPERM(1), ENOENT(2), EIO(5), EBADF(9), EAGAIN(11), EACCES(13), EEXIST(17), EXDEV(18), ENOTDIR(20),
    EISDIR(21), EINVAL(22), EFBIG(27), ENOSPC(28), ERANGE(34), ENAMETOOLONG(36), ENOSYS(38), ENOTEMPTY(39),
    ELOOP(40), ENODATA(61), E2BIG(7), ENOTSUP(95), EBUSY(16), EROFS(30);

    private final int value;

    Errno(int value) {
        this.value = value;
    }

    public int value() {
        return value;
    }
}
