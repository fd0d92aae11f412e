package io.stratafs.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control socket between the CLI and a running mount: a Unix domain socket named after the
 * mountpoint, one request line in, one reply line out ({@code ping}, {@code status}, {@code flush}).
 */
final class ControlChannel {
    private static final Logger LOG = LoggerFactory.getLogger(ControlChannel.class);

    private ControlChannel() {
    }

    static Path runtimeDir() {
        String xdg = System.getenv("XDG_RUNTIME_DIR");
        if (Files.isWritable(Paths.get("/run"))) {
            return Paths.get("/run/stratafs");
        }
        if (xdg != null && !xdg.isEmpty()) {
            return Paths.get(xdg, "stratafs");
        }
        return Paths.get(System.getProperty("java.io.tmpdir"), "stratafs-" + System.getProperty("user.name"));
    }

    static Path socketFor(Path mountpoint) {
        String canonical = mountpoint.toAbsolutePath().normalize().toString();
        String name = io.stratafs.meta.Bytes.hex(io.stratafs.cache.Sha256.of(canonical.getBytes(StandardCharsets.UTF_8)))
                .substring(0, 20);
        return runtimeDir().resolve(name + ".sock");
    }

    /** Serves requests on a daemon thread until the returned channel is closed. */
    static ServerSocketChannel serve(Path socket, Function<String, String> handler) throws IOException {
        Files.createDirectories(socket.getParent());
        Files.deleteIfExists(socket);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Thread t = new Thread(() -> {
            while (server.isOpen()) {
                try (SocketChannel client = server.accept()) {
                    BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(client), StandardCharsets.UTF_8));
                    String request = in.readLine();
                    String reply;
                    try {
                        reply = handler.apply(request == null ? "" : request.trim());
                    } catch (RuntimeException e) {
                        reply = "error " + e.getMessage();
                    }
                    OutputStream out = Channels.newOutputStream(client);
                    out.write((reply.replace('\n', ' ') + "\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                } catch (IOException e) {
                    if (server.isOpen()) {
                        LOG.debug("control request failed: {}", e.toString());
                    }
                }
            }
        }, "stratafs-control");
        t.setDaemon(true);
        t.start();
        return server;
    }

    /** Sends one request; returns the reply, or null when nothing listens on the socket. */
    static String request(Path socket, String request) {
        if (!Files.exists(socket)) {
            return null;
        }
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            ch.write(java.nio.ByteBuffer.wrap((request + "\n").getBytes(StandardCharsets.UTF_8)));
            BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
            return in.readLine();
        } catch (IOException e) {
            return null;
        }
    }
}
