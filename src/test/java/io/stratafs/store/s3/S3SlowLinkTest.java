package io.stratafs.store.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.store.StoreException;
import io.stratafs.store.StoreOptions;
import io.stratafs.store.StoreUnavailableException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests over a slow link finish however long they take as long as bytes keep moving, and a link
 * that stops moving bytes fails within the stall timeout, through {@link ThrottlingProxy}.
 *
 * <p>Each transfer takes well over twice the stall timeout, so a timeout on the whole request
 * (what S3Store had) fails them all. The upload runs at 8 Mbit/s, not 1, because of loopback: its
 * 64 KiB segments let the client's kernel take about 4 MB of a body at once, invisible to us until
 * the answer comes, and the link must drain that within the stall timeout. On a real link the
 * kernel holds a couple of round trips' worth (seconds at most), whatever the bandwidth.
 */
class S3SlowLinkTest {
    private static final long ONE_MBIT = 125_000;

    @TempDir
    Path dir;
    S3ProxyServer server;
    ThrottlingProxy link;

    @BeforeEach
    void start() throws Exception {
        server = S3ProxyServer.start(dir.resolve("s3"));
        server.createBucket("slow");
    }

    @AfterEach
    void stop() throws Exception {
        try {
            if (link != null) {
                link.close();
            }
        } finally {
            server.close();
        }
    }

    private S3Store overALink(long bytesPerSecond, Duration stallTimeout) throws Exception {
        link = ThrottlingProxy.start(server.endpoint().getPort(), bytesPerSecond);
        StoreOptions o = server.options().endpoint(link.endpoint().toString()).maxAttempts(1).stallTimeout(stallTimeout).build();
        return new S3Store(S3Location.parse("s3://slow"), o);
    }

    private S3Store direct() throws StoreException {
        return new S3Store(S3Location.parse("s3://slow"), server.options().build());
    }

    private static byte[] randomBytes(int n) {
        byte[] data = new byte[n];
        new Random(n).nextBytes(data);
        return data;
    }

    private static long millisSince(long start) {
        return (System.nanoTime() - start) / 1_000_000;
    }

    @Test
    void aSlowUploadThatKeepsMovingCompletes() throws Exception {
        Duration stall = Duration.ofSeconds(6);
        byte[] data = randomBytes(16 << 20);
        try (S3Store slow = overALink(8 * ONE_MBIT, stall); S3Store fast = direct()) {
            long start = System.nanoTime();
            slow.put("blocks/ab/slow", data);
            long took = millisSince(start);
            assertTrue(took > 2 * stall.toMillis(), "the link was not slow: " + took + " ms");
            assertArrayEquals(data, fast.get("blocks/ab/slow"));
        }
    }

    @Test
    void aSlowDownloadThatKeepsMovingCompletes() throws Exception {
        Duration stall = Duration.ofSeconds(3);
        byte[] data = randomBytes(1 << 20);
        try (S3Store slow = overALink(ONE_MBIT, stall); S3Store fast = direct()) {
            fast.put("blocks/cd/slow", data);
            long start = System.nanoTime();
            assertArrayEquals(data, slow.get("blocks/cd/slow"));
            long took = millisSince(start);
            assertTrue(took > 2 * stall.toMillis(), "the link was not slow: " + took + " ms");
        }
    }

    /** The body is larger than the kernel takes at once, so the client ends up blocked in a socket write. */
    @Test
    void aStalledUploadFailsWithinTheStallTimeout() throws Exception {
        Duration stall = Duration.ofSeconds(3);
        byte[] data = randomBytes(8 << 20);
        try (S3Store slow = overALink(ONE_MBIT, stall)) {
            slow.check();
            link.stall(true);
            long start = System.nanoTime();
            StoreException e = assertThrows(StoreUnavailableException.class, () -> slow.put("blocks/ef/stalled", data));
            long took = millisSince(start);
            assertTrue(e.getMessage().contains("stalled: no bytes moved for 3 s"), e.getMessage());
            assertTrue(took < stall.toMillis() + 2_000, "took " + took + " ms: " + e.getMessage());
        }
    }

    @Test
    void aStalledDownloadFailsWithinTheStallTimeout() throws Exception {
        Duration stall = Duration.ofSeconds(3);
        try (S3Store slow = overALink(ONE_MBIT, stall); S3Store fast = direct()) {
            fast.put("blocks/12/stalled", randomBytes(1 << 20));
            slow.check();
            link.stall(true);
            long start = System.nanoTime();
            StoreException e = assertThrows(StoreUnavailableException.class, () -> slow.get("blocks/12/stalled"));
            long took = millisSince(start);
            assertTrue(e.getMessage().contains("stalled: no bytes moved for 3 s"), e.getMessage());
            assertTrue(took < stall.toMillis() + 2_000, "took " + took + " ms: " + e.getMessage());
        }
    }
}
