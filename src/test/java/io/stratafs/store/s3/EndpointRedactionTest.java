package io.stratafs.store.s3;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import io.stratafs.store.StoreFactory;
import io.stratafs.store.StoreOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An endpoint written with credentials in it (http://user:secret@host) never shows them: not in errors, descriptions or option dumps. */
class EndpointRedactionTest {
    private static final String SECRET = "hunter2-endpoint-password";

    @TempDir
    Path dir;
    S3ProxyServer server;
    final List<String> seen = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        server = S3ProxyServer.start(dir.resolve("s3"));
        server.createBucket("present");
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        for (String text : seen) {
            assertFalse(text.contains(SECRET), "the endpoint password leaked into: " + text);
        }
    }

    private String endpointWithPassword(int port) {
        return "http://alice:" + SECRET + "@127.0.0.1:" + port;
    }

    private StoreOptions.Builder options(String endpoint) {
        return server.options().endpoint(endpoint).maxAttempts(1);
    }

    @Test
    void theEndpointStillWorksAndDescriptionsHideThePassword() throws Exception {
        StoreOptions o = options(endpointWithPassword(server.endpoint().getPort())).build();
        seen.add(o.toString());
        List<ObjectStore> targets = StoreFactory.open("s3://present", o);
        try {
            targets.get(0).check();
            seen.add(StoreFactory.describeAll(targets));
        } finally {
            targets.forEach(ObjectStore::close);
        }
        assertTrue(o.toString().contains("127.0.0.1:" + server.endpoint().getPort()), o.toString());
    }

    @Test
    void aMissingBucketIsNamedWithTheEndpointButNotThePassword() throws Exception {
        try (S3Store s = new S3Store(S3Location.parse("s3://absent"), options(endpointWithPassword(server.endpoint().getPort())).build())) {
            StoreException e = assertThrows(StoreException.class, s::check);
            seen.add(e.getMessage());
            assertTrue(e.getMessage().contains("not found") && e.getMessage().contains("127.0.0.1:" + server.endpoint().getPort()), e.getMessage());
            seen.add(s.describe());
        }
    }

    @Test
    void anUnreachableEndpointIsReportedWithoutThePassword() throws Exception {
        int port = server.endpoint().getPort();
        server.stop();
        try (S3Store s = new S3Store(S3Location.parse("s3://present"), options(endpointWithPassword(port))
                .stallTimeout(Duration.ofSeconds(2)).build())) {
            for (var op : List.<org.junit.jupiter.api.function.Executable>of(s::check, () -> s.get("k"), () -> s.put("k", new byte[1]),
                    () -> s.list("blocks/"), () -> s.delete("k"))) {
                StoreException e = assertThrows(StoreException.class, op);
                seen.add(e.getMessage());
                for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
                    seen.add(String.valueOf(c.getMessage()));
                }
            }
        }
    }

    @Test
    void aRejectedEndpointIsQuotedWithoutThePassword() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StoreOptions.builder().endpoint("ftp://alice:" + SECRET + "@127.0.0.1:1"));
        seen.add(e.getMessage());
    }
}
