package io.stratafs.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * systemd's side of the notify protocol for tests: a bound AF_UNIX datagram socket (a path, or an
 * abstract name) whose datagrams are collected by a reader thread; their lines (one assignment
 * each, such as READY=1) are queued in arrival order.
 * {@link #address()} is the value for NOTIFY_SOCKET.
 */
public final class FakeSystemd implements AutoCloseable {
    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final short POLLIN = 1;

    /** The libc calls a datagram receiver needs. */
    public interface LibC {
        int socket(int domain, int type, int protocol);

        int bind(int fd, @In byte[] addr, int addrlen);

        @ssize_t long recv(int fd, @Out byte[] buf, @size_t long len, int flags);

        int poll(@In @Out byte[] fds, long nfds, int timeoutMs);

        int close(int fd);
    }

    private static final LibC LIBC = LibraryLoader.create(LibC.class).failImmediately().load("c");

    private final String address;
    private final Path path;
    private final int fd;
    private final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
    private final List<String> all = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Thread reader;
    private volatile boolean closed;

    private FakeSystemd(String address, Path path) {
        this.address = address;
        this.path = path;
        boolean abstractName = address.startsWith("@");
        byte[] name = address.getBytes(StandardCharsets.UTF_8);
        ByteBuffer sa = ByteBuffer.allocate(110).order(ByteOrder.nativeOrder());
        sa.putShort((short) AF_UNIX);
        if (abstractName) {
            sa.put((byte) 0).put(name, 1, name.length - 1);
        } else {
            sa.put(name);
        }
        fd = LIBC.socket(AF_UNIX, SOCK_DGRAM, 0);
        if (fd < 0 || LIBC.bind(fd, sa.array(), 2 + name.length + (abstractName ? 0 : 1)) != 0) {
            if (fd >= 0) {
                LIBC.close(fd);
            }
            throw new IllegalStateException("cannot bind a datagram socket at " + address);
        }
        reader = new Thread(this::read, "fake-systemd");
        reader.setDaemon(true);
        reader.start();
    }

    /** Listens at a socket file {@code path} (removed on close). */
    public static FakeSystemd at(Path path) {
        return new FakeSystemd(path.toAbsolutePath().toString(), path.toAbsolutePath());
    }

    /** Listens at the abstract name {@code @name}. */
    public static FakeSystemd atAbstract(String name) {
        return new FakeSystemd("@" + name, null);
    }

    public String address() {
        return address;
    }

    private void read() {
        byte[] pollfd = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putInt(fd).putShort(POLLIN).putShort((short) 0).array();
        byte[] buf = new byte[64 << 10];
        while (!closed) {
            // poll with a timeout, so close() ends this thread without closing a socket a call still uses
            if (LIBC.poll(pollfd, 1, 100) <= 0) {
                continue;
            }
            long n = LIBC.recv(fd, buf, buf.length, 0);
            if (n > 0) {
                String m = new String(buf, 0, (int) n, StandardCharsets.UTF_8);
                all.add(m);
                messages.addAll(List.of(m.split("\n")));
            }
        }
    }

    /**
     * Takes lines in arrival order until one matches {@code wanted} and returns it; fails with
     * everything received so far when none comes within {@code timeout}.
     */
    public String await(Predicate<String> wanted, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            String line = left > 0 ? messages.poll(left, TimeUnit.NANOSECONDS) : null;
            if (line == null) {
                throw new AssertionError("no " + what + " within " + timeout.toSeconds() + " s; received: " + all);
            }
            if (wanted.test(line)) {
                return line;
            }
        }
    }

    /** Takes every line that has arrived and not been taken yet. */
    public List<String> takeLines() {
        List<String> lines = new ArrayList<>();
        messages.drainTo(lines);
        return lines;
    }

    /** Every datagram received since the start, in order. */
    public List<String> received() {
        return List.copyOf(all);
    }

    @Override
    public void close() throws IOException, InterruptedException {
        closed = true;
        reader.join();
        LIBC.close(fd);
        if (path != null) {
            Files.deleteIfExists(path);
        }
    }
}
