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
}
