package io.stratafs.fuse.lowlevel;

import static io.stratafs.os.Libc.F_SETFL;
import static io.stratafs.os.Libc.O_CLOEXEC;
import static io.stratafs.os.Libc.O_NONBLOCK;
import static io.stratafs.os.Libc.O_RDWR;

import io.stratafs.os.Libc;

/**
 * A second descriptor on a mounted FUSE connection: {@code /dev/fuse} opened again and bound to the
 * connection with {@code FUSE_DEV_IOC_CLONE} (Linux 4.2). Requests are queued per connection, so
 * either descriptor reads any of them, but a reply must go to the descriptor its request was read
 * from. Its own open file description lets {@link SessionLoop}'s reader switch it between blocking
 * and non-blocking reads without touching the descriptor libfuse opened.
 */
final class DevFuse {
    /** {@code _IOR(229, 0, uint32_t)} from linux/fuse.h. */
    private static final long FUSE_DEV_IOC_CLONE = 0x8004e500L;

    private DevFuse() {
    }

    /** A non-blocking descriptor on the connection {@code fd} belongs to, or -errno. */
    static int cloneNonBlocking(int fd) {
        Libc.Calls c = Libc.get();
        int clone = c.open(Libc.cString("/dev/fuse"), O_RDWR | O_CLOEXEC);
        if (clone < 0) {
            return -Libc.errno();
        }
        if (c.ioctl(clone, FUSE_DEV_IOC_CLONE, new int[] {fd}) < 0 || c.fcntl(clone, F_SETFL, O_NONBLOCK) < 0) {
            int errno = Libc.errno();
            c.close(clone);
            return -errno;
        }
        return clone;
    }

    /** Switches {@code fd} between blocking and non-blocking reads. */
    static void setBlocking(int fd, boolean blocking) {
        Libc.get().fcntl(fd, F_SETFL, blocking ? 0 : O_NONBLOCK);
    }

    static void close(int fd) {
        Libc.get().close(fd);
    }
}
