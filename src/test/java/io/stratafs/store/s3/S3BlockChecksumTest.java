package io.stratafs.store.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.stratafs.meta.Bytes;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.StoreOptions;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * How a block with its recorded CRC32C goes on the wire ({@link S3Store#putBlock}): unsigned with
 * the CRC32C in a signed header only where a probe showed the server refuses a wrong one, else
 * signed with its SHA-256 as before. A loopback HTTP server stands in for S3; it either checks
 * {@code x-amz-checksum-crc32c} (400 BadDigest, as S3 and S3Proxy answer) or ignores it.
 */
class S3BlockChecksumTest {
    private HttpServer server;
    private final List<Request> seen = new CopyOnWriteArrayList<>();

    record Request(String method, String path, String contentSha256, String crc32c, String authorization, byte[] body) {
    }

    private void start(boolean checksCrc) throws Exception {
        start(checksCrc, false);
    }

    /** {@code deniesUnsigned}: every request with a CRC32C header gets 403 (access denied), as while keys are revoked. */
    private void start(boolean checksCrc, boolean deniesUnsigned) throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            var h = exchange.getRequestHeaders();
            byte[] body = exchange.getRequestBody().readAllBytes();
            String crc = h.getFirst("x-amz-checksum-crc32c");
            seen.add(new Request(exchange.getRequestMethod(), exchange.getRequestURI().getPath(), h.getFirst("x-amz-content-sha256"),
                    crc, h.getFirst("Authorization"), body));
            if (deniesUnsigned && crc != null) {
                byte[] error = "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>".getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(403, error.length);
                exchange.getResponseBody().write(error);
            } else if (checksCrc && crc != null && !crc.equals(base64(crc32c(body)))) {
                byte[] error = "<Error><Code>BadDigest</Code><Message>The CRC32C you specified did not match the calculated checksum.</Message></Error>"
                        .getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(400, error.length);
                exchange.getResponseBody().write(error);
            } else {
                exchange.getResponseHeaders().add("ETag", "\"0\"");
                exchange.sendResponseHeaders("DELETE".equals(exchange.getRequestMethod()) ? 204 : 200, -1);
            }
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    /** The block's name; computed here, since the store layer may not use the cache's Sha256. */
    private static String sha256Hex(byte[] block) throws Exception {
        return Bytes.hex(MessageDigest.getInstance("SHA-256").digest(block));
    }

    private S3Store store() throws Exception {
        StoreOptions o = StoreOptions.builder().endpoint("http://127.0.0.1:" + server.getAddress().getPort()).pathStyle(true)
                .credentials("test-access", "test-secret-0123456789").region("us-east-1").maxAttempts(1).build();
        return new S3Store(S3Location.parse("s3://bucket/vol"), o);
    }

    @Test
    void aServerThatChecksTheCrcGetsTheBlockUnsignedWithItsCrc() throws Exception {
        start(true);
        byte[] block = block();
        String hex = sha256Hex(block);
        try (S3Store store = store()) {
            store.putBlock(ObjectKeys.block(hex), block, crc32c(block));
        }
        assertEquals(3, seen.size(), "the probe, its deletion and the block: " + seen);
        Request probe = seen.get(0);
        assertEquals("PUT", probe.method());
        assertEquals("UNSIGNED-PAYLOAD", probe.contentSha256());
        assertEquals("DELETE", seen.get(1).method());
        assertEquals(probe.path(), seen.get(1).path(), "the probe object is deleted");
        Request put = seen.get(2);
        assertEquals("/bucket/vol/" + ObjectKeys.block(hex), put.path());
        assertEquals("UNSIGNED-PAYLOAD", put.contentSha256());
        assertEquals(base64(crc32c(block)), put.crc32c());
        assertTrue(put.authorization().contains("x-amz-checksum-crc32c"), "the checksum header is signed: " + put.authorization());
        assertArrayEquals(block, put.body());
    }

    @Test
    void aServerThatIgnoresTheCrcGetsTheBlockSignedWithItsSha256() throws Exception {
        start(false);
        byte[] block = block();
        String hex = sha256Hex(block);
        try (S3Store store = store()) {
            store.putBlock(ObjectKeys.block(hex), block, crc32c(block));
            store.putBlock(ObjectKeys.block(hex), block, crc32c(block));
        }
        assertEquals(4, seen.size(), "one probe and its deletion, then the two blocks: " + seen);
        assertEquals("DELETE", seen.get(1).method());
        for (Request put : seen.subList(2, 4)) {
            assertEquals(hex, put.contentSha256(), "signed with the block's SHA-256");
            assertEquals(null, put.crc32c());
            assertArrayEquals(block, put.body());
        }
    }

    /** A refusal for another reason than the checksum teaches nothing: blocks stay signed, the probe is asked again later. */
    @Test
    void aProbeDeniedAccessLeavesBlocksSigned() throws Exception {
        start(true, true);
        byte[] block = block();
        String hex = sha256Hex(block);
        try (S3Store store = store()) {
            store.putBlock(ObjectKeys.block(hex), block, crc32c(block));
            assertEquals(null, store.checksumsChecked(), "unknown, not 'checks'");
        }
        Request put = seen.get(seen.size() - 1);
        assertEquals("PUT", put.method());
        assertEquals(hex, put.contentSha256(), "signed with the block's SHA-256");
        assertEquals(null, put.crc32c());
    }

    @Test
    void onlyTlsOrThisMachineMayTakeAnUnsignedBody() {
        for (String allowed : List.of("http://127.0.0.1:9000", "http://localhost:9000", "http://[::1]:9000", "https://minio.lan",
                "https://10.0.0.5:9000")) {
            assertTrue(S3Store.unsignedAllowed(StoreOptions.builder().endpoint(allowed).build()), allowed);
        }
        for (String refused : List.of("http://10.0.0.5:9000", "http://minio.lan:9000", "http://127.0.0.1.example.com")) {
            assertTrue(!S3Store.unsignedAllowed(StoreOptions.builder().endpoint(refused).build()), refused);
        }
        assertTrue(!S3Store.unsignedAllowed(StoreOptions.builder().build()), "AWS itself: the SDK's own checksums");
    }

    private static byte[] block() {
        byte[] b = new byte[(1 << 20) + 5];
        new Random(3).nextBytes(b);
        return b;
    }

    private static int crc32c(byte[] b) {
        CRC32C c = new CRC32C();
        c.update(b);
        return (int) c.getValue();
    }

    private static String base64(int crc) {
        return Base64.getEncoder().encodeToString(ByteBuffer.allocate(4).putInt(crc).array());
    }
}
