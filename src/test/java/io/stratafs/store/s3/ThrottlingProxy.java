package io.stratafs.store.s3;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * A slow link for tests: a TCP relay on 127.0.0.1 that forwards to a server at a fixed number of
 * bytes per second in each direction (shared by all connections, like one uplink), and that can
 * stall: stop moving bytes altogether while keeping every connection open. Small socket buffers
 * keep the client's kernel from swallowing a whole request body at once, as it would on loopback.
 */
final class ThrottlingProxy implements AutoCloseable {
    private static final int SOCKET_BUFFER = 16 * 1024;

    private final ServerSocket listener;
    private final int targetPort;
    private final Limiter up;
    private final Limiter down;
    private final List<Socket> sockets = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final Object stallLock = new Object();
    private boolean stalled;
    private volatile boolean closed;

    private ThrottlingProxy(int targetPort, long bytesPerSecond) throws IOException {
        this.targetPort = targetPort;
        this.up = new Limiter(bytesPerSecond);
        this.down = new Limiter(bytesPerSecond);
        listener = new ServerSocket();
        listener.setReceiveBufferSize(SOCKET_BUFFER);
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread acceptor = new Thread(this::acceptLoop, "throttling-proxy-accept");
        acceptor.setDaemon(true);
        threads.add(acceptor);
        acceptor.start();
    }

    /** Relays 127.0.0.1:(a free port) to 127.0.0.1:{@code targetPort} at {@code bytesPerSecond} each way. */
    static ThrottlingProxy start(int targetPort, long bytesPerSecond) throws IOException {
        return new ThrottlingProxy(targetPort, bytesPerSecond);
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + listener.getLocalPort());
    }

    /** Stops (true) or resumes (false) all traffic; open connections stay open. */
    void stall(boolean on) {
        synchronized (stallLock) {
            stalled = on;
            stallLock.notifyAll();
        }
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return;
            }
            Socket server = new Socket();
            synchronized (sockets) {
                sockets.add(client);
                sockets.add(server);
            }
            try {
                server.setSendBufferSize(SOCKET_BUFFER);
                server.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort));
            } catch (IOException e) {
                // the server is down: the client sees its connection closed, as through a real link
                closeQuietly(client);
                closeQuietly(server);
                continue;
            }
            relay(client, server, up);
            relay(server, client, down);
        }
    }

    private void relay(Socket from, Socket to, Limiter limiter) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[limiter.chunk()];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                while (true) {
                    awaitFlowing();
                    int n = in.read(buf);
                    if (n < 0) {
                        to.shutdownOutput();
                        return;
                    }
                    limiter.take(n);
                    awaitFlowing();
                    out.write(buf, 0, n);
                }
            } catch (IOException | InterruptedException e) {
                // the other side closed, or the proxy is closing: the connection simply ends
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "throttling-proxy-relay");
        t.setDaemon(true);
        synchronized (sockets) {
            threads.add(t);
        }
        t.start();
    }

    private void awaitFlowing() throws InterruptedException {
        synchronized (stallLock) {
            while (stalled && !closed) {
                stallLock.wait();
            }
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() throws Exception {
        closed = true;
        listener.close();
        stall(false);
        List<Thread> all;
        synchronized (sockets) {
            sockets.forEach(ThrottlingProxy::closeQuietly);
            all = new ArrayList<>(threads);
        }
        for (Thread t : all) {
            t.interrupt();
            t.join(5_000);
        }
    }

    /** A token bucket without burst: bytes leave no faster than the rate, measured from the first byte. */
    private static final class Limiter {
        private final long bytesPerSecond;
        private long nextFreeNanos;

        Limiter(long bytesPerSecond) {
            this.bytesPerSecond = bytesPerSecond;
        }

        /** Reads this size come to about 1/20 s of traffic, so the flow is smooth, not bursts. */
        int chunk() {
            return (int) Math.max(512, Math.min(16 * 1024, bytesPerSecond / 20));
        }

        void take(int n) throws InterruptedException {
            long due;
            synchronized (this) {
                long now = System.nanoTime();
                nextFreeNanos = Math.max(nextFreeNanos, now) + n * 1_000_000_000L / bytesPerSecond;
                due = nextFreeNanos;
            }
            long wait = due - System.nanoTime();
            if (wait > 0) {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            }
        }
    }
}
