package io.stratafs.store.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.meta.Bytes;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.StoreException;
import java.net.URI;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity;

/**
 * The SigV4 signature of a PUT whose body hash is known: the same Authorization the SDK's own signer
 * computes from the body, without reading the body; and a real S3 server (S3Proxy, which checks
 * signatures and payload hashes) accepts a block so signed and refuses bytes that do not match.
 */
class KnownHashSignerTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-12-01T15:30:00Z"), ZoneOffset.UTC);
    private static final AwsCredentialsIdentity KEYS = AwsCredentialsIdentity.create("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");

    private static byte[] block(int seed) {
        byte[] b = new byte[(1 << 20) + 3];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static String sha256(byte[] b) throws Exception {
        return Bytes.hex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    private static SdkHttpRequest put(String hex, boolean withKnownHash) {
        SdkHttpRequest.Builder b = SdkHttpRequest.builder().method(SdkHttpMethod.PUT)
                .uri(URI.create("http://127.0.0.1:9000/bucket/vol/" + ObjectKeys.block(hex)))
                .putHeader("Content-Type", "application/octet-stream")
                .putHeader("x-amz-meta-note", "  two   spaces ");
        if (withKnownHash) {
            b.putHeader(KnownHashSigner.KNOWN_HASH, hex);
        }
        return b.build();
    }

    private static SignRequest<AwsCredentialsIdentity> request(SdkHttpRequest http, ContentStreamProvider body, AwsCredentialsIdentity id) {
        return SignRequest.builder(id).request(http).payload(body)
                .putProperty(AwsV4HttpSigner.REGION_NAME, "us-east-1")
                .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "s3")
                .putProperty(AwsV4HttpSigner.DOUBLE_URL_ENCODE, false)
                .putProperty(AwsV4HttpSigner.NORMALIZE_PATH, false)
                .putProperty(AwsV4HttpSigner.CHUNK_ENCODING_ENABLED, false)
                .putProperty(AwsV4HttpSigner.PAYLOAD_SIGNING_ENABLED, true)
                .putProperty(HttpSigner.SIGNING_CLOCK, CLOCK)
                .build();
    }

    private static String authorization(SdkHttpRequest r) {
        return r.firstMatchingHeader("Authorization").orElseThrow();
    }

    @Test
    void theSignatureIsTheOneTheSdkComputesFromTheBody() throws Exception {
        for (AwsCredentialsIdentity id : new AwsCredentialsIdentity[] {KEYS,
                AwsSessionCredentialsIdentity.create("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token-1")}) {
            byte[] data = block(1);
            String hex = sha256(data);
            SdkHttpRequest sdk = AwsV4HttpSigner.create().sign(request(put(hex, false), ContentStreamProvider.fromByteArray(data), id)).request();
            SdkHttpRequest ours = new KnownHashSigner().sign(request(put(hex, true), ContentStreamProvider.fromByteArray(data), id)).request();
            assertEquals(authorization(sdk), authorization(ours));
            assertEquals(hex, ours.firstMatchingHeader("x-amz-content-sha256").orElseThrow());
            assertEquals(sdk.firstMatchingHeader("x-amz-date"), ours.firstMatchingHeader("x-amz-date"));
            assertEquals(sdk.firstMatchingHeader("x-amz-security-token"), ours.firstMatchingHeader("x-amz-security-token"));
        }
    }

    @Test
    void theBodyIsNotReadToSignIt() throws Exception {
        String hex = sha256(block(2));
        ContentStreamProvider unreadable = () -> {
            throw new AssertionError("the signer read the body");
        };
        SdkHttpRequest signed = new KnownHashSigner().sign(request(put(hex, true), unreadable, KEYS)).request();
        assertTrue(authorization(signed).startsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261201/us-east-1/s3/aws4_request"),
                authorization(signed));
    }

    @Test
    void withoutAKnownHashTheSdkSignerHashesTheBody() throws Exception {
        byte[] data = block(3);
        SdkHttpRequest signed = new KnownHashSigner().sign(request(put(sha256(data), false), ContentStreamProvider.fromByteArray(data), KEYS)).request();
        assertEquals(sha256(data), signed.firstMatchingHeader("x-amz-content-sha256").orElseThrow());
    }

    @Test
    void onlyAKeyThatNamesItsBodysHashCarriesIt() throws Exception {
        String hex = sha256(block(4));
        assertEquals(hex, S3Store.knownHash(ObjectKeys.block(hex)));
        assertEquals(hex, S3Store.knownHash(ObjectKeys.trashedBlock(hex)));
        assertNull(S3Store.knownHash("blocks/ab/cd"));
        assertNull(S3Store.knownHash("blocks/00/" + hex));
        assertNull(S3Store.knownHash("blocks/" + hex.substring(0, 2) + "/x/" + hex));
        assertNull(S3Store.knownHash("journal/" + hex.substring(0, 2) + "/" + hex));
        assertNull(S3Store.knownHash(ObjectKeys.block(hex.toUpperCase(java.util.Locale.ROOT))));
    }

    @Test
    void aRealServerAcceptsABlockSoSignedAndRefusesBytesThatDoNotMatchItsName(@TempDir Path dir) throws Exception {
        try (S3ProxyServer server = S3ProxyServer.start(dir)) {
            server.createBucket("signed");
            try (S3Store store = new S3Store(S3Location.parse("s3://signed/vol"), server.options().maxAttempts(1).build())) {
                byte[] data = block(5);
                String key = ObjectKeys.block(sha256(data));
                store.put(key, data);
                assertArrayEquals(data, store.get(key));

                byte[] other = block(6);
                String misnamed = ObjectKeys.block(sha256(block(7)));
                StoreException e = assertThrows(StoreException.class, () -> store.put(misnamed, other));
                assertTrue(!store.exists(misnamed), "a body that does not match its name was stored: " + e.getMessage());
            }
        }
    }
}
