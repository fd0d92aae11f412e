package io.stratafs.cli;

import io.stratafs.os.Libc;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sd_notify protocol, spoken directly: one datagram per message to the AF_UNIX socket named by
 * {@code NOTIFY_SOCKET} (a path, or an abstract name written with a leading {@code @}). Java 17's
 * DatagramChannel has no AF_UNIX, so the socket comes from libc through jnr-ffi. Without
 * {@code NOTIFY_SOCKET} every send is a no-op, so the daemon runs the same way outside systemd.
 */
final class SystemdNotify {
    private static final Logger LOG = LoggerFactory.getLogger(SystemdNotify.class);
    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;
    /** A vanished listener must not kill the daemon with SIGPIPE. */
    private static final int MSG_NOSIGNAL = 0x4000;
    /** sizeof(sun_path) on Linux. */
    private static final int SUN_PATH_BYTES = 108;

    /** The encoded sockaddr_un and its length, or null when NOTIFY_SOCKET is unset. */
    private final byte[] address;
    private final int addressLength;
    private final String socketName;
    private final long watchdogUsec;
    private volatile boolean failureLogged;

    private SystemdNotify(String socketName, byte[] address, int addressLength, long watchdogUsec) {
        this.socketName = socketName;
        this.address = address;
        this.addressLength = addressLength;
        this.watchdogUsec = watchdogUsec;
    }

    /**
     * Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID as sd_notify(3) and sd_watchdog_enabled(3)
     * define them; a malformed value is an IllegalArgumentException saying which and why, since
     * systemd would otherwise time the service out without a word.
     */
    static SystemdNotify fromEnvironment(Map<String, String> env, long pid) {
        String socket = env.get("NOTIFY_SOCKET");
        long watchdog = watchdogUsec(env, pid);
        if (socket == null || socket.isEmpty()) {
            return new SystemdNotify(null, null, 0, 0);
        }
        boolean abstractName = socket.startsWith("@");
        if (!abstractName && !socket.startsWith("/")) {
            throw new IllegalArgumentException("NOTIFY_SOCKET=" + socket
                    + " is neither an absolute socket path nor an abstract socket name starting with @");
        }
        byte[] name = socket.getBytes(StandardCharsets.UTF_8);
        // an abstract name is not NUL-terminated; a path needs room for its NUL
        if (name.length > (abstractName ? SUN_PATH_BYTES : SUN_PATH_BYTES - 1)) {
            throw new IllegalArgumentException("NOTIFY_SOCKET=" + socket + " is longer than a Unix socket address can be ("
                    + (SUN_PATH_BYTES - 1) + " bytes)");
        }
        ByteBuffer sa = ByteBuffer.allocate(2 + SUN_PATH_BYTES).order(ByteOrder.nativeOrder());
        sa.putShort((short) AF_UNIX);
        if (abstractName) {
            sa.put((byte) 0).put(name, 1, name.length - 1);
        } else {
            sa.put(name);
        }
        int length = 2 + name.length + (abstractName ? 0 : 1);
        return new SystemdNotify(socket, sa.array(), length, watchdog);
    }

    private static long watchdogUsec(Map<String, String> env, long pid) {
        String usec = env.get("WATCHDOG_USEC");
        if (usec == null || usec.isEmpty()) {
            return 0;
        }
        long value;
        try {
            value = Long.parseLong(usec.trim());
        } catch (NumberFormatException e) {
            value = -1;
        }
        if (value <= 0) {
            throw new IllegalArgumentException("WATCHDOG_USEC=" + usec + " is not a positive whole number of microseconds "
                    + "(systemd sets it from WatchdogSec=)");
        }
        String forPid = env.get("WATCHDOG_PID");
        if (forPid != null && !forPid.isEmpty()) {
            try {
                if (Long.parseLong(forPid.trim()) != pid) {
                    return 0;
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("WATCHDOG_PID=" + forPid + " is not a process id");
            }
        }
        return value;
    }

    /** Whether a service manager listens (NOTIFY_SOCKET was set). */
    boolean enabled() {
        return address != null;
    }

    /** The watchdog interval systemd expects pings within, in milliseconds; 0 when it expects none. */
    long watchdogMillis() {
        return enabled() && watchdogUsec > 0 ? Math.max(1, watchdogUsec / 1000) : 0;
    }

    /**
     * Sends the newline-separated assignments ({@code READY=1}, {@code STATUS=...}) as one datagram.
     * A failure is logged once and otherwise ignored: the filesystem must keep serving when its
     * service manager goes away.
     */
    boolean send(String... assignments) {
        if (!enabled()) {
            return false;
        }
        byte[] message = String.join("\n", assignments).getBytes(StandardCharsets.UTF_8);
        Libc.Calls c = Libc.get();
        int fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            return failed("cannot create a socket");
        }
        try {
            long sent = c.sendto(fd, message, message.length, MSG_NOSIGNAL, address, addressLength);
            return sent == message.length || failed("cannot send to " + socketName);
        } finally {
            c.close(fd);
        }
    }

    private boolean failed(String what) {
        int errno = Libc.errno();
        if (!failureLogged) {
            failureLogged = true;
            LOG.warn("systemd notification failed: {}: {} (NOTIFY_SOCKET; further failures are not logged)", what,
                    Libc.get().strerror(errno));
        }
        return false;
    }
}
