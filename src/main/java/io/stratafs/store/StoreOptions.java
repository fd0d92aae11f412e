package io.stratafs.store;

import java.net.URI;
import java.time.Duration;

/**
 * How to reach object-store targets: endpoint, region, addressing, checksums, pool sizes, retries
 * and timeouts. Validated when built, with a sentence for each bad value. Holds no secret unless
 * explicit test credentials are given, and never prints them.
 */
public final class StoreOptions {
    /** Explicit credentials (tests, tools); production uses the default AWS credential chain. */
    public record Credentials(String accessKey, String secretKey) {
        @Override
        public String toString() {
            return "Credentials[accessKey=" + accessKey + ", secretKey=<redacted>]";
        }
    }

    public final URI endpoint;
    public final String region;
    public final boolean pathStyle;
    /** null: only when required for a custom endpoint, when supported for AWS itself. */
    public final Boolean checksumWhenRequired;
    public final int maxConnections;
    public final int downloadConcurrency;
    public final int maxAttempts;
    /** How long a request may move no bytes before it is abandoned (and retried); never how long it may take. */
    public final Duration stallTimeout;
    public final Credentials credentials;
    /** A profile of the AWS config and credentials files to sign with; null: the default chain. */
    public final String profile;

    private StoreOptions(Builder b) {
        endpoint = b.endpoint;
        region = b.region;
        pathStyle = b.pathStyle;
        checksumWhenRequired = b.checksumWhenRequired;
        maxConnections = b.maxConnections;
        downloadConcurrency = b.downloadConcurrency;
        maxAttempts = b.maxAttempts;
        stallTimeout = b.stallTimeout;
        credentials = b.credentials;
        profile = b.profile;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Whether requests should carry checksums only when an operation requires them. */
    public boolean checksumsOnlyWhenRequired() {
        return checksumWhenRequired != null ? checksumWhenRequired : endpoint != null;
    }

    @Override
    public String toString() {
        return "StoreOptions[endpoint=" + endpoint + ", region=" + region + ", pathStyle=" + pathStyle
                + ", checksumsOnlyWhenRequired=" + checksumsOnlyWhenRequired() + ", maxConnections=" + maxConnections
                + ", maxAttempts=" + maxAttempts + ", stallTimeout=" + stallTimeout
                + ", credentials=" + (credentials != null ? credentials : profile != null ? "profile " + profile : "default chain") + "]";
    }

    /** Builds {@link StoreOptions}; every setter checks its argument. */
    public static final class Builder {
        private URI endpoint;
        private String region;
        private boolean pathStyle;
        private Boolean checksumWhenRequired;
        private int maxConnections = 32;
        private int downloadConcurrency = 8;
        private int maxAttempts = 5;
        private Duration stallTimeout = Duration.ofSeconds(30);
        private Credentials credentials;
        private String profile;

        public Builder endpoint(String url) {
            if (url == null) {
                endpoint = null;
                return this;
            }
            try {
                URI u = URI.create(url);
                if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null) {
                    throw new IllegalArgumentException();
                }
                endpoint = withoutUserInfo(u);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--endpoint \"" + redactUserInfo(url) + "\" is not an http:// or https:// URL");
            }
            return this;
        }

        /**
         * The endpoint is printed in errors, {@code status} and logs, so a {@code user:password@} in it
         * is dropped here, where it enters: requests are signed with the AWS credentials and S3 never
         * reads it.
         */
        private static URI withoutUserInfo(URI u) {
            if (u.getRawUserInfo() == null) {
                return u;
            }
            String authority = u.getRawAuthority();
            return URI.create(u.getScheme() + "://" + authority.substring(authority.lastIndexOf('@') + 1)
                    + (u.getRawPath() == null ? "" : u.getRawPath()) + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery()));
        }

        /** An endpoint we could not parse, fit to quote: anything up to its last '@' may be a password. */
        private static String redactUserInfo(String url) {
            int at = url.lastIndexOf('@');
            if (at < 0) {
                return url;
            }
            int scheme = url.indexOf("://");
            int from = scheme >= 0 && scheme < at ? scheme + 3 : 0;
            return url.substring(0, from) + "<redacted>" + url.substring(at);
        }

        public Builder region(String r) {
            if (r != null && !r.matches("[a-z0-9-]{1,40}")) {
                throw new IllegalArgumentException("--region \"" + r + "\" is not a region name such as us-east-1");
            }
            region = r;
            return this;
        }

        public Builder pathStyle(boolean v) {
            pathStyle = v;
            return this;
        }

        public Builder checksumWhenRequired(Boolean v) {
            checksumWhenRequired = v;
            return this;
        }

        public Builder maxConnections(int n) {
            maxConnections = inRange("--max-connections", n, 1, 1024);
            return this;
        }

        public Builder downloadConcurrency(int n) {
            downloadConcurrency = inRange("--download-concurrency", n, 1, 256);
            return this;
        }

        public Builder maxAttempts(int n) {
            maxAttempts = inRange("retry attempts", n, 1, 20);
            return this;
        }

        public Builder stallTimeout(Duration d) {
            if (d == null || d.compareTo(Duration.ofSeconds(1)) < 0 || d.compareTo(Duration.ofHours(1)) > 0) {
                throw new IllegalArgumentException("--stall-timeout must be 1 to 3600 seconds, got " + (d == null ? "nothing" : d.toSeconds()));
            }
            stallTimeout = d;
            return this;
        }

        public Builder credentials(String accessKey, String secretKey) {
            if (accessKey == null || accessKey.isEmpty() || secretKey == null || secretKey.isEmpty()) {
                throw new IllegalArgumentException("credentials need a non-empty access key and secret key");
            }
            credentials = new Credentials(accessKey, secretKey);
            return this;
        }

        /** A profile name (never a secret): the keys stay in the AWS files of each machine that uses it. */
        public Builder profile(String name) {
            if (name != null && !name.matches("[A-Za-z0-9._@+-]{1,64}")) {
                throw new IllegalArgumentException("--profile \"" + name + "\" is not an AWS profile name (1-64 letters, digits, '.', '_', '@', '+' or '-')");
            }
            profile = name;
            return this;
        }

        private static int inRange(String what, int n, int min, int max) {
            if (n < min || n > max) {
                throw new IllegalArgumentException(what + " must be " + min + " to " + max + ", got " + n);
            }
            return n;
        }

        public StoreOptions build() {
            return new StoreOptions(this);
        }
    }
}
