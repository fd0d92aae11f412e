package io.stratafs.store.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.stratafs.meta.Bytes;
import io.stratafs.store.StoreOptions;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a block PUT looks like on the wire over plain HTTP: one body signed by the SHA-256 of all of
 * it, not aws-chunked (a signature per 128 KiB chunk that the server must decode and check each).
 * A loopback HTTP server stands in for S3 and records the request.
 */
class S3PutBodyTest {
    private HttpServer server;
    private final AtomicReference<Request> seen = new AtomicReference<>();

    record Request(String method, String path, String contentSha256, String contentEncoding, String decodedLength, byte[] body) {
    }

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            var h = exchange.getRequestHeaders();
            byte[] body = exchange.getRequestBody().readAllBytes();
            seen.set(new Request(exchange.getRequestMethod(), exchange.getRequestURI().getPath(), h.getFirst("x-amz-content-sha256"),
                    h.getFirst("Content-Encoding"), h.getFirst("x-amz-decoded-content-length"), body));
            exchange.getResponseHeaders().add("ETag", "\"0\"");
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private StoreOptions options(String scheme) {
        return StoreOptions.builder().endpoint(scheme + "://127.0.0.1:" + server.getAddress().getPort()).pathStyle(true)
                .credentials("test-access", "test-secret-0123456789").region("us-east-1").maxAttempts(1).build();
    }

    @Test
    void aBlockIsOnePlainBodySignedWithItsSha256() throws Exception {
        byte[] block = new byte[(4 << 20) + 17];
        new Random(9).nextBytes(block);
        try (S3Store store = new S3Store(S3Location.parse("s3://bucket/vol"), options("http"))) {
            store.put("blocks/ab/cd", block);
        }
        Request r = seen.get();
        assertNotNull(r, "the server saw no request");
        assertEquals("PUT", r.method());
        assertEquals("/bucket/vol/blocks/ab/cd", r.path());
        assertEquals(Bytes.hex(MessageDigest.getInstance("SHA-256").digest(block)), r.contentSha256(),
                "the payload hash header should be the SHA-256 of the whole body, not a STREAMING-* marker");
        assertFalse(String.valueOf(r.contentEncoding()).contains("aws-chunked"), "Content-Encoding " + r.contentEncoding());
        assertEquals(null, r.decodedLength());
        assertArrayEquals(block, r.body(), "the body on the wire should be the block's bytes, unframed");
    }

    @Test
    void aConditionalCreateIsAPlainBodyToo() throws Exception {
        byte[] segment = "journal segment".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try (S3Store store = new S3Store(S3Location.parse("s3://bucket"), options("http"))) {
            store.create("journal/x", segment);
        }
        Request r = seen.get();
        assertEquals(Bytes.hex(MessageDigest.getInstance("SHA-256").digest(segment)), r.contentSha256());
        assertArrayEquals(segment, r.body());
    }

    @Test
    void onlyAnEndpointWithoutTlsTurnsChunkedSigningOff() {
        assertTrue(S3Store.plainHttp(options("http")));
        assertFalse(S3Store.plainHttp(options("https")));
        assertFalse(S3Store.plainHttp(StoreOptions.builder().build()));
    }
}
