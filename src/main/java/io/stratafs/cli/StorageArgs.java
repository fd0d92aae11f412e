package io.stratafs.cli;

import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import io.stratafs.store.StoreFactory;
import io.stratafs.store.StoreOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The options that say how to reach S3 targets, shared by every command that opens a volume. */
final class StorageArgs {
    @Option(names = "--endpoint", paramLabel = "URL", description = "S3 endpoint (MinIO, Ceph, S3Proxy); default: AWS.")
    String endpoint;

    @Option(names = "--region", description = "S3 region (default us-east-1).")
    String region;

    @Option(names = "--path-style", description = "Path-style bucket addressing (needed by most non-AWS servers).")
    boolean pathStyle;

    @Option(names = "--checksums", paramLabel = "WHEN", description = "when-required or when-supported: whether requests carry the SDK's "
            + "newest checksums (older MinIO and Ceph need when-required; default: when-required with --endpoint).")
    String checksums;

    @Option(names = "--profile", paramLabel = "NAME", description = "Sign S3 requests with this profile of the AWS config and "
            + "credentials files (default: the standard AWS chain); format and --join record it for the site's peers.")
    String profile;

    @Option(names = "--download-concurrency", defaultValue = "8", description = "Parallel block fetches (default ${DEFAULT-VALUE}).")
    int downloadConcurrency;

    @Option(names = "--stall-timeout", paramLabel = "SECONDS", defaultValue = "30", description = "Abandon and retry an S3 request "
            + "that moves no bytes for this long; a slow transfer that keeps moving never times out (default ${DEFAULT-VALUE}).")
    int stallTimeout;

    StoreOptions options() {
        Boolean whenRequired = null;
        if (checksums != null) {
            switch (checksums) {
                case "when-required" -> whenRequired = true;
                case "when-supported" -> whenRequired = false;
                default -> throw new IllegalArgumentException("--checksums must be when-required or when-supported, got " + checksums);
            }
        }
        return StoreOptions.builder().endpoint(endpoint).region(region).pathStyle(pathStyle)
                .checksumWhenRequired(whenRequired).profile(profile).downloadConcurrency(downloadConcurrency)
                .stallTimeout(Duration.ofSeconds(stallTimeout))
                .maxConnections(Math.max(32, downloadConcurrency * 2)).build();
    }

    List<ObjectStore> open(String storage) throws StoreException {
        return StoreFactory.open(storage, options());
    }

    /** The same options as arguments, to hand to a child process. */
    List<String> asArgs() {
        List<String> out = new ArrayList<>();
        if (endpoint != null) {
            // as parsed, without user:password@, which every local user could read in the daemon's command line
            out.add("--endpoint=" + options().endpoint);
        }
        if (region != null) {
            out.add("--region=" + region);
        }
        if (pathStyle) {
            out.add("--path-style");
        }
        if (checksums != null) {
            out.add("--checksums=" + checksums);
        }
        if (profile != null) {
            out.add("--profile=" + profile);
        }
        out.add("--download-concurrency=" + downloadConcurrency);
        out.add("--stall-timeout=" + stallTimeout);
        return out;
    }
}
