package io.stratafs.store.s3;

import io.stratafs.store.StoreOptions;
import io.stratafs.testing.TempDirs;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;

/**
 * A real S3 server for tests: S3Proxy in this JVM on 127.0.0.1, storing objects as files under a
 * directory (bucket/key), with AWS signature authentication. {@link #stop()} and
 * {@link #restartSamePort()} simulate an outage.
 */
public final class S3ProxyServer implements AutoCloseable {
    public static final String ACCESS_KEY = "stratafs-test-access";
    public static final String SECRET_KEY = "stratafs-test-secret-0123456789";

    private final Path storageDir;
    /** Whether {@link #close} removes {@link #storageDir} (made by {@link #startInTempDir}). */
    private boolean ownsStorageDir;
    private S3Proxy proxy;
    private int port;
    private String accessKey = ACCESS_KEY;
    private String secretKey = SECRET_KEY;

    private S3ProxyServer(Path storageDir) {
        this.storageDir = storageDir;
    }

    public static S3ProxyServer start(Path storageDir) throws Exception {
        S3ProxyServer s = new S3ProxyServer(storageDir);
        s.startOn(0);
        return s;
    }

    /**
     * Starts on a fresh directory under /tmp whose name begins with {@code prefix}, with one bucket
     * {@code bucket}; {@link #close} stops the server and removes the directory.
     */
    public static S3ProxyServer startInTempDir(String prefix, String bucket) throws Exception {
        S3ProxyServer s = new S3ProxyServer(Files.createTempDirectory(Path.of("/tmp"), prefix));
        s.ownsStorageDir = true;
        try {
            s.startOn(0);
            s.createBucket(bucket);
        } catch (Exception | Error e) {
            s.close();
            throw e;
        }
        return s;
    }

    private void startOn(int wantedPort) throws Exception {
        Files.createDirectories(storageDir);
        Properties p = new Properties();
        p.setProperty("jclouds.filesystem.basedir", storageDir.toString());
        BlobStore store = BlobStores.create("filesystem", p);
        proxy = S3Proxy.builder()
                .blobStore(store)
                .endpoint(URI.create("http://127.0.0.1:" + wantedPort))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, accessKey, secretKey)
                .build();
        proxy.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!"STARTED".equals(proxy.getState())) {
            if (System.nanoTime() > deadline || "FAILED".equals(proxy.getState())) {
                throw new IllegalStateException("S3Proxy did not start: " + proxy.getState());
            }
            Thread.onSpinWait();
        }
        port = proxy.getPort();
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    public Path storageDir() {
        return storageDir;
    }

    /** Creates a bucket (a directory of the filesystem provider). */
    public void createBucket(String bucket) throws java.io.IOException {
        Files.createDirectories(storageDir.resolve(bucket));
    }

    /** Options that reach this server with the test credentials. */
    public StoreOptions.Builder options() {
        return StoreOptions.builder().endpoint(endpoint().toString()).region("us-east-1").pathStyle(true)
                .credentials(ACCESS_KEY, SECRET_KEY);
    }

    public void stop() throws Exception {
        if (proxy != null) {
            proxy.stop();
            proxy = null;
        }
    }

    /** Starts again on the same port and storage, as a server returning after an outage. */
    public void restartSamePort() throws Exception {
        restartSamePort(ACCESS_KEY, SECRET_KEY);
    }

    /** Starts again on the same port and storage, accepting only the given key (a revoked or rotated key). */
    public void restartSamePort(String access, String secret) throws Exception {
        stop();
        accessKey = access;
        secretKey = secret;
        startOn(port);
    }

    @Override
    public void close() throws Exception {
        try {
            stop();
        } finally {
            if (ownsStorageDir) {
                TempDirs.delete(storageDir);
            }
        }
    }
}
