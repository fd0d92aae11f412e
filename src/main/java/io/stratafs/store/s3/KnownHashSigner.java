package io.stratafs.store.s3;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.scheme.AwsV4AuthScheme;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.scheme.AuthScheme;
import software.amazon.awssdk.http.auth.spi.signer.AsyncSignRequest;
import software.amazon.awssdk.http.auth.spi.signer.AsyncSignedRequest;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignRequest;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity;
import software.amazon.awssdk.identity.spi.IdentityProvider;
import software.amazon.awssdk.identity.spi.IdentityProviders;

/**
 * Signature Version 4 for a PUT whose body's SHA-256 is already known: a block, whose key is that
 * hash (docs/FORMAT.md). Without TLS the SDK's signer reads every body once more to hash it, 1 GiB
 * per GiB uploaded; here the request carries the known hash in {@code x-amz-content-sha256}
 * ({@link #KNOWN_HASH}) and only the headers are hashed. The payload stays signed: the server
 * hashes the body it receives and refuses it when that differs, so a block whose bytes do not match
 * its name cannot reach the bucket either. A block may instead be sent with
 * {@link #UNSIGNED_PAYLOAD} beside its CRC32C in {@link #CRC32C}, a signed header the server
 * checks the body against ({@code S3Store#putBlock}, only once a probe showed that the server does).
 * Every other request (no such header, a query string, a
 * flexible checksum to compute, a presigned URL) goes to the SDK's own signer unchanged.
 */
final class KnownHashSigner implements HttpSigner<AwsCredentialsIdentity> {
    /** The header a caller sets to the body's SHA-256 in lowercase hex. */
    static final String KNOWN_HASH = "x-amz-content-sha256";
    /** The payload hash of a body sent unsigned; accepted only beside {@link #CRC32C}, which is signed. */
    static final String UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
    static final String CRC32C = "x-amz-checksum-crc32c";

    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    /** Headers that may change between signing and sending or that proxies rewrite: left unsigned, as the SDK does. */
    private static final List<String> UNSIGNED = List.of("user-agent", "expect", "connection", "transfer-encoding",
            "x-amzn-trace-id", "content-length", "amz-sdk-invocation-id", "amz-sdk-request");

    private final AwsV4HttpSigner sdk = AwsV4HttpSigner.create();

    /** The SigV4 scheme with this signer, for {@code S3ClientBuilder.putAuthScheme}. */
    static AuthScheme<AwsCredentialsIdentity> scheme() {
        AwsV4AuthScheme base = AwsV4AuthScheme.create();
        KnownHashSigner signer = new KnownHashSigner();
        return new AuthScheme<>() {
            @Override
            public String schemeId() {
                return base.schemeId();
            }

            @Override
            public IdentityProvider<AwsCredentialsIdentity> identityProvider(IdentityProviders providers) {
                return base.identityProvider(providers);
            }

            @Override
            public HttpSigner<AwsCredentialsIdentity> signer() {
                return signer;
            }
        };
    }

    @Override
    public SignedRequest sign(SignRequest<? extends AwsCredentialsIdentity> request) {
        String hash = knownHash(request.request());
        if (hash == null || !plainHeaderSigning(request)) {
            return sdk.sign(request);
        }
        Clock clock = request.hasProperty(HttpSigner.SIGNING_CLOCK) ? request.property(HttpSigner.SIGNING_CLOCK) : Clock.systemUTC();
        SdkHttpRequest signed = sign(request.request(), request.identity(), request.property(AwsV4HttpSigner.REGION_NAME),
                request.property(AwsV4HttpSigner.SERVICE_SIGNING_NAME), hash, clock);
        return SignedRequest.builder().request(signed).payload(request.payload().orElse(null)).build();
    }

    @Override
    public CompletableFuture<AsyncSignedRequest> signAsync(AsyncSignRequest<? extends AwsCredentialsIdentity> request) {
        // S3Store uses the synchronous client only
        return sdk.signAsync(request);
    }

    /**
     * The caller's known body hash: 64 lowercase hex digits, or {@link #UNSIGNED_PAYLOAD} when the
     * request carries the body's CRC32C in {@link #CRC32C} for the server to check; else null
     * (the SDK hashes the body).
     */
    static String knownHash(SdkHttpRequest request) {
        String h = request.firstMatchingHeader(KNOWN_HASH).orElse(null);
        if (UNSIGNED_PAYLOAD.equals(h)) {
            return request.firstMatchingHeader(CRC32C).isPresent() ? h : null;
        }
        return h != null && isSha256Hex(h) ? h : null;
    }

    /** Whether {@code s} is a SHA-256 as this signer sends it: 64 lowercase hex digits. */
    static boolean isSha256Hex(String s) {
        if (s.length() != 64) {
            return false;
        }
        for (int i = 0; i < 64; i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                return false;
            }
        }
        return true;
    }

    /** Only what this signer implements: a header signature, no query string, no flexible checksum to add. */
    private static boolean plainHeaderSigning(SignRequest<? extends AwsCredentialsIdentity> r) {
        return r.request().rawQueryParameters().isEmpty()
                && !r.hasProperty(AwsV4FamilyHttpSigner.CHECKSUM_ALGORITHM)
                && !r.hasProperty(AwsV4HttpSigner.EXPIRATION_DURATION)
                && r.requireProperty(AwsV4HttpSigner.AUTH_LOCATION, AwsV4FamilyHttpSigner.AuthLocation.HEADER)
                        == AwsV4FamilyHttpSigner.AuthLocation.HEADER
                && r.hasProperty(AwsV4HttpSigner.REGION_NAME) && r.hasProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME);
    }

    /**
     * AWS Signature Version 4 (the published algorithm: canonical request, string to sign, a key
     * derived by HMAC-SHA256 from the secret, date, region and service) with {@code hash} as the
     * payload's hash. The path is signed as the SDK encoded it, once, as S3 expects.
     */
    static SdkHttpRequest sign(SdkHttpRequest request, AwsCredentialsIdentity identity, String region, String service,
            String hash, Clock clock) {
        String amzDate = AMZ_DATE.format(clock.instant());
        String date = amzDate.substring(0, 8);
        SdkHttpRequest.Builder b = request.toBuilder()
                .putHeader("Host", hostHeader(request))
                .putHeader("x-amz-date", amzDate)
                .putHeader(KNOWN_HASH, hash);
        if (identity instanceof AwsSessionCredentialsIdentity session) {
            b.putHeader("x-amz-security-token", session.sessionToken());
        }
        Map<String, String> headers = new TreeMap<>();
        b.forEachHeader((name, values) -> {
            String lower = name.toLowerCase(Locale.ROOT);
            if (!UNSIGNED.contains(lower)) {
                headers.merge(lower, canonicalValue(values), (x, y) -> x + "," + y);
            }
        });
        String signedHeaders = String.join(";", headers.keySet());
        StringBuilder canonical = new StringBuilder(512)
                .append(request.method().name()).append('\n')
                .append(request.encodedPath().isEmpty() ? "/" : request.encodedPath()).append('\n')
                .append('\n');
        headers.forEach((k, v) -> canonical.append(k).append(':').append(v).append('\n'));
        canonical.append('\n').append(signedHeaders).append('\n').append(hash);
        String scope = date + "/" + region + "/" + service + "/aws4_request";
        String toSign = "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex(sha256(canonical.toString()));
        byte[] key = hmac(("AWS4" + identity.secretAccessKey()).getBytes(StandardCharsets.UTF_8), date);
        key = hmac(key, region);
        key = hmac(key, service);
        key = hmac(key, "aws4_request");
        String signature = hex(hmac(key, toSign));
        return b.putHeader("Authorization", "AWS4-HMAC-SHA256 Credential=" + identity.accessKeyId() + "/" + scope
                + ", SignedHeaders=" + signedHeaders + ", Signature=" + signature).build();
    }

    /** {@code host}, with the port when it is not the scheme's default: what the HTTP client sends. */
    private static String hostHeader(SdkHttpRequest r) {
        int port = r.port();
        boolean standard = port == -1 || "http".equals(r.protocol()) && port == 80 || "https".equals(r.protocol()) && port == 443;
        return standard ? r.host() : r.host() + ":" + port;
    }

    /** Values trimmed, inner runs of spaces as one, several values joined by commas. */
    private static String canonicalValue(List<String> values) {
        StringBuilder s = new StringBuilder();
        for (String v : values) {
            if (s.length() > 0) {
                s.append(',');
            }
            s.append(v.trim().replaceAll(" +", " "));
        }
        return s.toString();
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

    private static byte[] hmac(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM has no HmacSHA256", e);
        }
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
