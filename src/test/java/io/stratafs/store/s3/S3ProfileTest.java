package io.stratafs.store.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.stratafs.store.StoreException;
import io.stratafs.store.StoreOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --profile NAME}: requests are signed with that profile of the AWS files (what a site uses
 * for a peer's bucket), and a profile this machine lacks is named in the error. The SDK reads the
 * files' locations from system properties, which are set for each test and restored after it.
 */
class S3ProfileTest {
    @TempDir
    Path dir;
    private S3ProxyServer server;
    private String savedCredentials;
    private String savedConfig;

    @BeforeEach
    void setUp() throws Exception {
        server = S3ProxyServer.start(dir.resolve("s3"));
        server.createBucket("peer");
        Files.writeString(dir.resolve("credentials"), "[site-c]\naws_access_key_id = " + S3ProxyServer.ACCESS_KEY
                + "\naws_secret_access_key = " + S3ProxyServer.SECRET_KEY + "\n");
        Files.writeString(dir.resolve("config"), "");
        savedCredentials = System.setProperty("aws.sharedCredentialsFile", dir.resolve("credentials").toString());
        savedConfig = System.setProperty("aws.configFile", dir.resolve("config").toString());
    }

    @AfterEach
    void tearDown() throws Exception {
        restore("aws.sharedCredentialsFile", savedCredentials);
        restore("aws.configFile", savedConfig);
        server.close();
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }

    private StoreOptions withProfile(String profile) {
        return StoreOptions.builder().endpoint(server.endpoint().toString()).pathStyle(true).maxAttempts(1).profile(profile).build();
    }

    @Test
    void requestsAreSignedWithTheNamedProfile() throws Exception {
        try (S3Store s = new S3Store(S3Location.parse("s3://peer/vol"), withProfile("site-c"))) {
            s.check();
            s.put("sites/C", "x".getBytes(StandardCharsets.UTF_8));
            assertArrayEquals("x".getBytes(StandardCharsets.UTF_8), s.get("sites/C"));
        }
    }

    @Test
    void aProfileThisMachineLacksIsNamed() throws Exception {
        try (S3Store s = new S3Store(S3Location.parse("s3://peer/vol"), withProfile("site-d"))) {
            StoreException e = assertThrows(StoreException.class, s::check);
            assertEquals("no credentials for bucket \"peer\" at " + server.endpoint()
                    + " (add the AWS profile \"site-d\" in ~/.aws/credentials or ~/.aws/config on this machine)", e.getMessage());
        }
    }

    @Test
    void theOptionsNameTheProfileAndNoSecret() {
        String shown = withProfile("site-c").toString();
        assertFalse(shown.contains(S3ProxyServer.SECRET_KEY), shown);
        assertEquals(true, shown.contains("credentials=profile site-c"), shown);
    }
}
