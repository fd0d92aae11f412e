package io.stratafs.store.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.store.ObjectStore;
import io.stratafs.store.ObjectStoreContract;
import io.stratafs.store.StoreException;
import io.stratafs.store.StoreUnavailableException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The object-store contract and the error sentences, against a real S3 server (S3Proxy) over HTTP. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class S3StoreTest extends ObjectStoreContract {
    @TempDir
    static Path dir;
    S3ProxyServer server;
    int prefixes;

    @BeforeAll
    void startServer() throws Exception {
        server = S3ProxyServer.start(dir);
        server.createBucket("contract");
    }

    @AfterAll
    void stopServer() throws Exception {
        server.close();
    }

    @Override
    protected ObjectStore newStore() throws StoreException {
        // each test gets its own prefix in the one bucket, which also proves prefix isolation
        return new S3Store(S3Location.parse("s3://contract/test" + (++prefixes)), server.options().build());
    }

    @Test
    void aMissingBucketIsNamedWithTheEndpoint() throws Exception {
        try (S3Store s = new S3Store(S3Location.parse("s3://no-such-bucket"), server.options().build())) {
            StoreException e = assertThrows(StoreException.class, s::check);
            assertTrue(e.getMessage().contains("bucket \"no-such-bucket\" at " + server.endpoint() + " not found"), e.getMessage());
        }
    }

    @Test
    void wrongCredentialsAreReportedWithoutTheSecret() throws Exception {
        String secret = "wrong-secret-value-42";
        try (S3Store s = new S3Store(S3Location.parse("s3://contract"), server.options().credentials("nobody", secret).build())) {
            StoreException e = assertThrows(StoreException.class, s::check);
            assertTrue(e.getMessage().contains("access denied"), e.getMessage());
            assertFalse(e.getMessage().contains(secret));
            assertFalse(e.getMessage().contains(S3ProxyServer.SECRET_KEY));
        }
    }

    /** The server refuses a large PUT before reading its body; the client sees a broken connection, not the 403. */
    @Test
    void aRefusedLargeUploadSaysAccessDeniedNotUnreachable() throws Exception {
        try (S3Store s = new S3Store(S3Location.parse("s3://contract"), server.options().credentials("nobody", "wrong").build())) {
            StoreException e = assertThrows(StoreException.class, () -> s.put("blocks/big", new byte[4 << 20]));
            assertFalse(e instanceof io.stratafs.store.StoreUnavailableException, e.getMessage());
            assertTrue(e.getMessage().contains("access denied"), e.getMessage());
        }
    }

    @Test
    void prefixesDoNotSeeEachOther() throws Exception {
        try (S3Store a = new S3Store(S3Location.parse("s3://contract/iso-a"), server.options().build());
             S3Store b = new S3Store(S3Location.parse("s3://contract/iso-b/"), server.options().build())) {
            a.put("k/1", new byte[] {1});
            b.put("k/2", new byte[] {2});
            assertEquals(List.of("k/1"), a.list("k/"));
            assertEquals(List.of("k/2"), b.list("k/"));
        }
    }

    @Test
    void anUnreachableServerIsTransient() throws Exception {
        S3ProxyServer other = S3ProxyServer.start(dir.resolve("other"));
        String endpoint = other.endpoint().toString();
        other.close();
        try (S3Store s = new S3Store(S3Location.parse("s3://contract"), server.options().endpoint(endpoint).maxAttempts(2)
                .stallTimeout(Duration.ofSeconds(2)).build())) {
            StoreException e = assertThrows(StoreException.class, () -> s.get("x"));
            assertInstanceOf(StoreUnavailableException.class, e);
            assertTrue(e.getMessage().contains("cannot reach"), e.getMessage());
        }
    }

    @Test
    void credentialsNeverAppearInOptionsText() {
        assertFalse(server.options().build().toString().contains(S3ProxyServer.SECRET_KEY));
    }

    /**
     * S3Proxy checks {@code x-amz-checksum-crc32c}: the probe finds that out (and leaves nothing
     * behind), a block then goes up unsigned with its recorded CRC32C, and a block whose bytes
     * differ from that CRC (changed after it was written) is refused and not stored.
     */
    @Test
    void blocksGoUpUnsignedWithTheirCrcAndAChangedOneIsRefused() throws Exception {
        try (S3Store s = new S3Store(S3Location.parse("s3://contract/crc"), server.options().build())) {
            assertEquals(Boolean.TRUE, s.checksumsChecked(), "S3Proxy refuses a wrong x-amz-checksum-crc32c");
            assertEquals(List.of(), s.list("blocks/"), "the probe object is deleted");
            byte[] block = new byte[(4 << 20) + 3];
            new java.util.Random(5).nextBytes(block);
            String key = io.stratafs.store.ObjectKeys.block(sha256Hex(block));
            s.putBlock(key, block, crc32c(block));
            org.junit.jupiter.api.Assertions.assertArrayEquals(block, s.get(key));

            byte[] other = new byte[1 << 20];
            new java.util.Random(6).nextBytes(other);
            String otherKey = io.stratafs.store.ObjectKeys.block(sha256Hex(other));
            int recorded = crc32c(other);
            other[12345] ^= 1; // a bit flipped after the block was named and its CRC recorded
            StoreException e = assertThrows(StoreException.class, () -> s.putBlock(otherKey, other, recorded));
            assertFalse(e instanceof StoreUnavailableException, "a refused body is not an outage: " + e.getMessage());
            assertFalse(s.exists(otherKey), "a refused body must not be stored");
        }
    }

    private static String sha256Hex(byte[] b) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b));
    }

    private static int crc32c(byte[] b) {
        java.util.zip.CRC32C c = new java.util.zip.CRC32C();
        c.update(b);
        return (int) c.getValue();
    }
}
