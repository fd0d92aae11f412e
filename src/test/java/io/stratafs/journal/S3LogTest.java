package io.stratafs.journal;

import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import io.stratafs.store.s3.S3Location;
import io.stratafs.store.s3.S3ProxyServer;
import io.stratafs.store.s3.S3Store;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The log on a real S3 server (S3Proxy on 127.0.0.1): conditional creates, StartAfter listings, the head. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class S3LogTest extends LogOnStorageContract {
    @TempDir
    static Path dir;
    S3ProxyServer server;
    int prefixes;

    @BeforeAll
    void startServer() throws Exception {
        server = S3ProxyServer.start(dir);
        server.createBucket("logs");
    }

    @AfterAll
    void stopServer() throws Exception {
        server.close();
    }

    @Override
    protected ObjectStore newStore() throws StoreException {
        return new S3Store(S3Location.parse("s3://logs/site" + (++prefixes)), server.options().build());
    }
}
