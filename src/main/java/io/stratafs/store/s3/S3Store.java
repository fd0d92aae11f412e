package io.stratafs.store.s3;

import io.stratafs.store.ObjectExistsException;
import io.stratafs.store.ObjectInfo;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectNotFoundException;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import io.stratafs.store.StoreOptions;
import io.stratafs.store.StoreUnavailableException;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A target in an S3-compatible bucket (AWS, MinIO, Ceph RGW, S3Proxy) through the AWS SDK v2:
 * endpoint override, optional path-style addressing, the default credential chain, a bounded
 * connection pool, the SDK's standard retry strategy (exponential backoff with jitter on
 * throttling, 5xx and connection errors) and a stall timeout that ends a request only when it stops
 * moving bytes ({@link StallDetectingHttpClient}). With the HTTP client, the only classes that know
 * the AWS SDK. Messages never contain credentials.
 */
public final class S3Store implements ObjectStore {
    private final S3Location location;
    private final String where;
    private final S3Client client;
    /** See {@link #unsignedAllowed}. */
    private final boolean unsignedAllowed;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(S3Store.class);
    private static final String PROBE_TEXT = "StrataFS: does this server check x-amz-checksum-crc32c? (deleted at once) ";
    private final Object probeLock = new Object();
    /** See {@link #checksumsChecked}. */
    private volatile Boolean checksumsChecked;
    /** Whether a block sent unsigned with its CRC32C was stored: the probe's refusal was the checksum's. */
    private volatile boolean unsignedConfirmed;
    /** When a probe that got no answer may be tried again ({@link #checksumsChecked}); guarded by probeLock. */
    private long nextProbeNanos = System.nanoTime();
    /** The AWS profile requests are signed with, or null for the default chain: errors say where to put the keys. */
    private final String profile;

    public S3Store(S3Location location, StoreOptions options) {
        this.location = location;
        this.profile = options.profile;
        this.where = options.endpoint != null ? options.endpoint.toString() : "AWS S3";
        this.client = build(options);
        this.unsignedAllowed = unsignedAllowed(options);
    }

    /**
     * Whether a block may go up unsigned with its CRC32C ({@link #putBlock}): only where nobody
     * between us and the server can swap the body, as a CRC32C is easily forged where a signed
     * SHA-256 is not: over TLS, or to a server on this machine (S3Proxy, MinIO on loopback). Plain
     * HTTP across a network keeps the signed hash. AWS itself (no endpoint) is left to the SDK's
     * own checksums.
     */
    static boolean unsignedAllowed(StoreOptions o) {
        if (o.endpoint == null || o.endpoint.getHost() == null) {
            return false;
        }
        if ("https".equalsIgnoreCase(o.endpoint.getScheme())) {
            return true;
        }
        String host = o.endpoint.getHost();
        if (host.equalsIgnoreCase("localhost")) {
            return true;
        }
        try {
            // a literal address only: a name would be looked up here, and could resolve elsewhere later
            return host.matches("[0-9.]+|\\[[0-9a-fA-F:.]+\\]") && java.net.InetAddress.getByName(host).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    private static S3Client build(StoreOptions o) {
        S3ClientBuilder b = S3Client.builder()
                .region(Region.of(o.region != null ? o.region : "us-east-1"))
                .forcePathStyle(o.pathStyle)
                .credentialsProvider(credentials(o))
                // SigV4 with a block's known SHA-256 instead of hashing its 4 MiB again (KnownHashSigner)
                .putAuthScheme(KnownHashSigner.scheme())
                // no timeout on a whole attempt or call: a block upload may take minutes on a slow
                // uplink; what must be bounded is a connection that moves nothing
                .httpClientBuilder(StallDetectingHttpClient.wrap(Apache5HttpClient.builder()
                        .maxConnections(o.maxConnections)
                        .connectionTimeout(java.time.Duration.ofSeconds(10))
                        .socketTimeout(o.stallTimeout), o.stallTimeout))
                .overrideConfiguration(ClientOverrideConfiguration.builder()
                        .retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder().maxAttempts(o.maxAttempts).build())
                        .build());
        if (o.endpoint != null) {
            b.endpointOverride(o.endpoint);
        }
        if (plainHttp(o)) {
            // Without TLS the SDK signs every payload. With aws-chunked encoding (its default for
            // PutObject) it signs each 128 KiB chunk apart and frames it into a new stream; one
            // SHA-256 of the whole body cost the daemon about 2 CPU-s less per GiB uploaded to
            // S3Proxy on loopback (native-notes, S3 client). A block's body is not hashed at all:
            // its key is its SHA-256 (KnownHashSigner); segments and records still are, once.
            b.serviceConfiguration(S3Configuration.builder().chunkedEncodingEnabled(false).build());
        }
        if (o.checksumsOnlyWhenRequired()) {
            b.requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                    .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        }
        return b.build();
    }

    /** An endpoint reached without TLS (S3Proxy, MinIO on a LAN): the SDK signs every payload there. */
    static boolean plainHttp(StoreOptions o) {
        return o.endpoint != null && "http".equalsIgnoreCase(o.endpoint.getScheme());
    }

    /**
     * A body over the caller's array, not a copy of it ({@code RequestBody.fromBytes} copies: 4 MiB
     * per block). Callers hand over arrays nobody changes afterwards: blocks are immutable, named by
     * their hash, and segments and records are encoded for the one call.
     */
    private static RequestBody body(byte[] data) {
        return RequestBody.fromContentProvider(ContentStreamProvider.fromByteArrayUnsafe(data), data.length, "application/octet-stream");
    }

    /**
     * The SHA-256 of the body for a key that names it ({@code blocks/ab/ab12...} or
     * {@code trash/ab/ab12...}: docs/FORMAT.md), else null. The server checks the body against it,
     * so a caller that broke the naming rule gets a refusal, not a misnamed object.
     */
    static String knownHash(String key) {
        if (!key.startsWith(ObjectKeys.BLOCKS_PREFIX) && !key.startsWith(ObjectKeys.TRASH_PREFIX)) {
            return null;
        }
        String hex = ObjectKeys.blockHex(key);
        if (!KnownHashSigner.isSha256Hex(hex) || !key.endsWith("/" + hex.substring(0, 2) + "/" + hex)
                || key.length() != key.indexOf('/') + 4 + 64) {
            return null;
        }
        return hex;
    }

    private static AwsCredentialsProvider credentials(StoreOptions o) {
        if (o.credentials != null) {
            return StaticCredentialsProvider.create(AwsBasicCredentials.create(o.credentials.accessKey(), o.credentials.secretKey()));
        }
        if (o.profile != null) {
            return ProfileCredentialsProvider.builder().profileName(o.profile).build();
        }
        return DefaultCredentialsProvider.builder().build();
    }

    @Override
    public String describe() {
        return location.toString();
    }

    @Override
    public void check() throws StoreException {
        call("check", null, () -> client.headBucket(r -> r.bucket(location.bucket())));
    }

    @Override
    public void put(String key, byte[] data) throws StoreException {
        putSigned(key, data, knownHash(key), null);
    }

    /**
     * A block with the CRC32C recorded when it was written: where the body cannot be swapped on
     * the way ({@link #unsignedAllowed}) and the server is known to check
     * {@code x-amz-checksum-crc32c} ({@link #checksumsChecked}), the body goes unsigned
     * ({@code UNSIGNED-PAYLOAD}, as rclone sends it) with that checksum in a signed header, so the
     * server spends a CRC32C on it instead of a SHA-256 and no longer buffers the whole body to
     * check a signature first (S3Proxy did both), and still refuses bytes that differ from what
     * was written. Elsewhere it is signed with its SHA-256, as {@link #put} does.
     */
    @Override
    public void putBlock(String key, byte[] data, int crc32c) throws StoreException {
        if (!unsignedAllowed || knownHash(key) == null || checksumsChecked() != Boolean.TRUE) {
            put(key, data);
            return;
        }
        try {
            putSigned(key, data, KnownHashSigner.UNSIGNED_PAYLOAD, crc32c);
            unsignedConfirmed = true;
        } catch (StoreUnavailableException e) {
            throw e;
        } catch (StoreException e) {
            if (unsignedConfirmed) {
                throw e;
            }
            // the probe's refusal had another cause than the checksum: this server takes no unsigned body
            LOG.info("{} refused a block sent unsigned with its CRC32C ({}); block uploads are signed with their SHA-256",
                    describe(), e.getMessage());
            checksumsChecked = false;
            put(key, data);
        }
    }

    /**
     * Whether the server refuses a body whose {@code x-amz-checksum-crc32c} does not match it (AWS
     * S3 does, and S3Proxy 4.1.0: S3StoreTest); null while unknown (the probe met an outage). Asked
     * once per store with a small object under a fresh random name sent with a wrong checksum: a
     * server that stores it ignores the header, and block uploads stay signed. The probe object is
     * deleted in either case; its name is the SHA-256 of a body with 32 random bytes, so no block
     * of any file can have it.
     */
    Boolean checksumsChecked() {
        Boolean known = checksumsChecked;
        if (known != null) {
            return known;
        }
        synchronized (probeLock) {
            // after a probe that got no answer, blocks go signed for a minute: an outage must not
            // cost each upload a second request (a stalled one waits for the stall timeout)
            if (checksumsChecked == null && System.nanoTime() - nextProbeNanos >= 0) {
                checksumsChecked = probeChecksums();
                nextProbeNanos = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(1);
            }
            return checksumsChecked;
        }
    }

    private Boolean probeChecksums() {
        byte[] nonce = new byte[32];
        new java.security.SecureRandom().nextBytes(nonce);
        byte[] body = (PROBE_TEXT + java.util.HexFormat.of().formatHex(nonce) + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        String key;
        try {
            key = ObjectKeys.block(java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(body)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(body);
        Boolean checked;
        try {
            putSigned(key, body, KnownHashSigner.UNSIGNED_PAYLOAD, (int) crc.getValue() ^ 0x5bd1e995);
            checked = false;
            LOG.info("{} stored a body whose x-amz-checksum-crc32c did not match it; block uploads are signed with their SHA-256",
                    describe());
        } catch (StoreException e) {
            if (!(e.getCause() instanceof S3Exception s3) || s3.statusCode() != 400) {
                // no answer, or a refusal for another reason (access denied): nothing learnt
                LOG.debug("the checksum probe of {} got no answer: {}", describe(), e.getMessage());
                return null;
            }
            // 400 to a request that differs from a block's upload only in its checksum (a server
            // that takes no unsigned body at all is found at the first block: see putBlock)
            checked = true;
            LOG.info("{} checks x-amz-checksum-crc32c (it refused a wrong one: {}); blocks are sent unsigned with their CRC32C",
                    describe(), e.getMessage());
        }
        try {
            delete(key);
        } catch (StoreException e) {
            LOG.debug("cannot delete the checksum probe {} from {}: {}", key, describe(), e.getMessage());
        }
        return checked;
    }

    /**
     * A PUT; {@code payloadHash} (a known SHA-256, {@link KnownHashSigner#UNSIGNED_PAYLOAD}, or null
     * for the SDK to hash the body) goes to the signer, {@code crc32c} (or null) into a header.
     */
    private void putSigned(String key, byte[] data, String payloadHash, Integer crc32c) throws StoreException {
        try {
            call("write", key, () -> client.putObject(r -> {
                r.bucket(location.bucket()).key(location.key(key));
                if (crc32c != null) {
                    r.checksumCRC32C(java.util.Base64.getEncoder().encodeToString(
                            java.nio.ByteBuffer.allocate(4).putInt(crc32c).array()));
                }
                if (payloadHash != null) {
                    r.overrideConfiguration(c -> c.putHeader(KnownHashSigner.KNOWN_HASH, payloadHash));
                }
            }, body(data)));
        } catch (StoreUnavailableException e) {
            // A server refusing a PUT (revoked key, deleted bucket) may close the connection while the
            // body is still being sent, so the SDK reports a broken pipe, not the 403 or 404. A HEAD of
            // the bucket carries no body and names the real cause if there is one. A stalled link has
            // no other cause to find, and a HEAD would only stall as well.
            if (!stalled(e)) {
                check();
            }
            throw e;
        }
    }

    /**
     * A PUT with {@code If-None-Match: *}: the server refuses it with 412 when the key exists (AWS
     * since 2024, MinIO, Ceph RGW; S3Proxy 4.1.0 too, see S3StoreTest). A server that ignores the
     * header would let a second writer replace the object; the uploader reads a refused segment back
     * and compares it, but cannot see a replacement such a server allowed.
     */
    @Override
    public void create(String key, byte[] data) throws StoreException {
        call("create", key, () -> client.putObject(r -> r.bucket(location.bucket()).key(location.key(key)).ifNoneMatch("*"),
                body(data)));
    }

    @Override
    public void putFile(String key, java.nio.file.Path file) throws StoreException {
        try {
            call("write", key, () -> client.putObject(r -> r.bucket(location.bucket()).key(location.key(key)), RequestBody.fromFile(file)));
        } catch (StoreUnavailableException e) {
            // as in put: a refused upload may surface as a broken pipe; the HEAD names the real cause
            check();
            throw e;
        }
    }

    @Override
    public byte[] get(String key) throws StoreException {
        return call("read", key, () -> client.getObject(r -> r.bucket(location.bucket()).key(location.key(key)), S3Store::body));
    }

    @Override
    public byte[] getRange(String key, long offset, int length) throws StoreException {
        if (length <= 0) {
            return new byte[0];
        }
        try {
            return call("read", key, () -> client.getObject(r -> r.bucket(location.bucket()).key(location.key(key))
                    .range("bytes=" + offset + "-" + (offset + length - 1)), S3Store::body));
        } catch (RangeNotSatisfiable e) {
            return new byte[0];
        }
    }

    /**
     * Reads a response body into an array of the length the server announced: the SDK's
     * {@code getObjectAsBytes} grows a buffer and copies it twice more, three extra copies and as
     * many 4 MiB allocations per block, which showed in the CPU cost of a cold read. A body shorter
     * than announced fails as an I/O error, which the SDK retries.
     */
    private static byte[] body(GetObjectResponse response, java.io.InputStream in) throws java.io.IOException {
        Long announced = response.contentLength();
        if (announced == null || announced < 0 || announced > Integer.MAX_VALUE - 8) {
            return in.readAllBytes();
        }
        byte[] data = new byte[announced.intValue()];
        int n = in.readNBytes(data, 0, data.length);
        if (n < data.length) {
            throw new java.io.IOException("the response ended after " + n + " of its " + data.length + " bytes");
        }
        return data;
    }

    @Override
    public boolean exists(String key) throws StoreException {
        try {
            call("look up", key, () -> client.headObject(r -> r.bucket(location.bucket()).key(location.key(key))));
            return true;
        } catch (ObjectNotFoundException e) {
            return false;
        }
    }

    @Override
    public List<String> list(String prefix) throws StoreException {
        return call("list", prefix, () -> {
            List<String> keys = new ArrayList<>();
            for (S3Object o : client.listObjectsV2Paginator(r -> r.bucket(location.bucket()).prefix(location.key(prefix))).contents()) {
                keys.add(location.volumeKey(o.key()));
            }
            keys.sort(null);
            return keys;
        });
    }

    @Override
    public List<String> listAfter(String prefix, String startAfter) throws StoreException {
        return call("list", prefix, () -> {
            List<String> keys = new ArrayList<>();
            for (S3Object o : client.listObjectsV2Paginator(r -> r.bucket(location.bucket()).prefix(location.key(prefix))
                    .startAfter(location.key(startAfter))).contents()) {
                keys.add(location.volumeKey(o.key()));
            }
            keys.sort(null);
            return keys;
        });
    }

    @Override
    public List<ObjectInfo> listInfo(String prefix) throws StoreException {
        return call("list", prefix, () -> {
            List<ObjectInfo> out = new ArrayList<>();
            for (S3Object o : client.listObjectsV2Paginator(r -> r.bucket(location.bucket()).prefix(location.key(prefix))).contents()) {
                out.add(new ObjectInfo(location.volumeKey(o.key()), o.size(), o.lastModified().toEpochMilli()));
            }
            out.sort(java.util.Comparator.comparing(ObjectInfo::key));
            return out;
        });
    }

    @Override
    public ObjectInfo stat(String key) throws StoreException {
        try {
            var head = call("look up", key, () -> client.headObject(r -> r.bucket(location.bucket()).key(location.key(key))));
            return new ObjectInfo(key, head.contentLength(), head.lastModified().toEpochMilli());
        } catch (ObjectNotFoundException e) {
            return null;
        }
    }

    @Override
    public void delete(String key) throws StoreException {
        call("delete", key, () -> client.deleteObject(r -> r.bucket(location.bucket()).key(location.key(key))));
    }

    @Override
    public void close() {
        client.close();
    }

    /** Range requests past the end of an object. */
    private static final class RangeNotSatisfiable extends StoreException {
        RangeNotSatisfiable() {
            super("range not satisfiable");
        }
    }

    @FunctionalInterface
    private interface Call<T> {
        T run();
    }

    /** Runs one SDK call and turns its failures into our exception types and sentences. */
    private <T> T call(String what, String key, Call<T> body) throws StoreException {
        String bucket = "bucket \"" + location.bucket() + "\" at " + where;
        try {
            return body.run();
        } catch (NoSuchKeyException e) {
            throw new ObjectNotFoundException("object " + key + " not found in " + describe());
        } catch (NoSuchBucketException e) {
            throw new StoreException(bucket + " not found (create it, or check --endpoint)");
        } catch (S3Exception e) {
            int status = e.statusCode();
            String code = e.awsErrorDetails() == null ? "" : e.awsErrorDetails().errorCode();
            if (status == 404 && key == null) {
                throw new StoreException(bucket + " not found (create it, or check --endpoint)");
            }
            if (status == 404) {
                throw new ObjectNotFoundException("object " + key + " not found in " + describe());
            }
            if (status == 412 && "create".equals(what)) {
                throw new ObjectExistsException("object " + key + " already exists in " + describe());
            }
            if (status == 409 && "create".equals(what)) {
                // AWS: another conditional write of this key is in flight; the retry settles who won
                throw new StoreUnavailableException("cannot create " + key + " in " + describe() + ": a concurrent write of it is in flight", e);
            }
            if (status == 416) {
                throw new RangeNotSatisfiable();
            }
            if (status == 403 || status == 401 || "InvalidAccessKeyId".equals(code) || "SignatureDoesNotMatch".equals(code)) {
                throw new StoreException("access denied to " + bucket + " (check the AWS credentials: " + credentialSource() + ")");
            }
            if (status >= 500 || status == 429) {
                throw new StoreUnavailableException("cannot " + what + " " + (key == null ? "" : key + " in ") + describe()
                        + ": the server answered " + status + (code.isEmpty() ? "" : " " + code), e);
            }
            throw new StoreException("cannot " + what + " " + (key == null ? "" : key + " in ") + describe() + ": " + status
                    + (code.isEmpty() ? "" : " " + code), e);
        } catch (SdkClientException e) {
            if (profile != null && String.valueOf(e.getMessage()).contains("rofile")) {
                // the SDK names a missing profile or file in its own words; ours says where to put the keys
                throw new StoreException("no credentials for " + bucket + " (add " + credentialSource() + ")", e);
            }
            if (String.valueOf(e.getMessage()).startsWith("Unable to load credentials")) {
                // the SDK's text lists every provider it tried in one very long line
                throw new StoreUnavailableException("no AWS credentials for " + bucket + " (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                        + "or AWS_PROFILE, or run with an instance role)", e);
            }
            throw new StoreUnavailableException("cannot reach " + bucket + ": " + firstLine(e.getMessage()), e);
        } catch (SdkException e) {
            throw new StoreUnavailableException("cannot " + what + " " + describe() + ": " + firstLine(e.getMessage()), e);
        }
    }

    private String credentialSource() {
        return profile != null ? "the AWS profile \"" + profile + "\" in ~/.aws/credentials or ~/.aws/config on this machine"
                : "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the instance role";
    }

    private static boolean stalled(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof StallDetectingHttpClient.StalledException) {
                return true;
            }
        }
        return false;
    }

    private static String firstLine(String m) {
        if (m == null) {
            return "no details";
        }
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
