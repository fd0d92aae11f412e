package io.stratafs.sync;

import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import io.stratafs.store.StoreFactory;
import io.stratafs.store.StoreOptions;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * One site of a volume as its peers need to know it: its name, the volume it belongs to, its storage
 * targets and how to reach them (S3 endpoint, region, addressing, checksums, and the name of an AWS
 * profile to sign with). Never a secret: each machine keeps its own keys for a named profile. Stored
 * as object {@code sites/<name>} (Java properties text, docs/FORMAT.md) in every site's storage.
 */
public record SiteRecord(String name, String volume, List<String> targets, String endpoint, String region,
                         boolean pathStyle, Boolean checksumWhenRequired, String profile) {
    public static final int FORMAT_VERSION = 1;

    public SiteRecord {
        if (name == null || !name.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new IllegalArgumentException("site name \"" + name + "\" must be 1-64 letters, digits, '.', '_' or '-'");
        }
        if (volume == null || volume.isEmpty()) {
            throw new IllegalArgumentException("the record of site " + name + " names no volume");
        }
        if (targets == null || targets.isEmpty()) {
            throw new IllegalArgumentException("the record of site " + name + " names no storage");
        }
        for (String t : targets) {
            if (t.isEmpty() || t.contains(",") || t.contains("\n")) {
                throw new IllegalArgumentException("storage \"" + t + "\" of site " + name + " cannot be recorded (empty, or holds ',' or a line break)");
            }
        }
        targets = List.copyOf(targets);
    }

    /**
     * The record of a site whose storage is {@code targets}, reached with {@code reach}'s S3 options
     * (recorded only when a target is in S3, so that a peer never reads meaning into unused options).
     */
    public static SiteRecord of(String name, String volume, List<ObjectStore> targets, StoreOptions reach) {
        List<String> where = new ArrayList<>();
        for (ObjectStore t : targets) {
            where.add(t.describe());
        }
        if (where.stream().noneMatch(t -> t.startsWith("s3://"))) {
            return new SiteRecord(name, volume, where, null, null, false, null, null);
        }
        return new SiteRecord(name, volume, where, reach.endpoint == null ? null : reach.endpoint.toString(), reach.region,
                reach.pathStyle, reach.checksumWhenRequired, reach.profile);
    }

    /** The targets as one STORAGE argument. */
    public String storage() {
        return String.join(",", targets);
    }

    /**
     * The options that reach this site's storage: its own endpoint, region, addressing, checksums and
     * profile, with this machine's pool sizes, retries and timeouts from {@code local}.
     */
    public StoreOptions options(StoreOptions local) {
        return StoreOptions.builder().endpoint(endpoint).region(region).pathStyle(pathStyle).checksumWhenRequired(checksumWhenRequired)
                .profile(profile).maxConnections(local.maxConnections).downloadConcurrency(local.downloadConcurrency)
                .maxAttempts(local.maxAttempts).stallTimeout(local.stallTimeout).build();
    }

    /** Opens this site's targets from another site (the caller closes them). */
    public List<ObjectStore> open(StoreOptions local) throws StoreException {
        return StoreFactory.open(storage(), options(local));
    }

    /** Deterministic text, so that two sites writing the same record write the same bytes. */
    public byte[] encode() {
        StringBuilder b = new StringBuilder("# StrataFS site record\n");
        b.append("format.version=").append(FORMAT_VERSION).append('\n');
        b.append("site=").append(name).append('\n');
        b.append("volume=").append(volume).append('\n');
        b.append("storage=").append(escape(storage())).append('\n');
        if (endpoint != null) {
            b.append("s3.endpoint=").append(escape(endpoint)).append('\n');
        }
        if (region != null) {
            b.append("s3.region=").append(region).append('\n');
        }
        if (pathStyle) {
            b.append("s3.path-style=true\n");
        }
        if (checksumWhenRequired != null) {
            b.append("s3.checksums=").append(checksumWhenRequired ? "when-required" : "when-supported").append('\n');
        }
        if (profile != null) {
            b.append("aws.profile=").append(profile).append('\n');
        }
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Escapes what Properties would otherwise read as an escape or a continuation. */
    private static String escape(String v) {
        return v.replace("\\", "\\\\");
    }

    /** Reads a record; {@code where} names the object in the message when it is unreadable or newer than this StrataFS. */
    public static SiteRecord decode(byte[] bytes, String where) {
        Properties p = new Properties();
        try {
            p.load(new StringReader(new String(bytes, StandardCharsets.UTF_8)));
            int version = Integer.parseInt(p.getProperty("format.version", "0"));
            if (version < 1 || version > FORMAT_VERSION) {
                throw new IllegalArgumentException("site record " + where + " has format version " + version
                        + ", this StrataFS reads versions 1 to " + FORMAT_VERSION);
            }
            String checksums = p.getProperty("s3.checksums");
            Boolean whenRequired = checksums == null ? null : switch (checksums) {
                case "when-required" -> true;
                case "when-supported" -> false;
                default -> throw new IllegalArgumentException("site record " + where + " has s3.checksums=" + checksums);
            };
            return new SiteRecord(p.getProperty("site"), p.getProperty("volume"), List.of(p.getProperty("storage").split(",", -1)),
                    p.getProperty("s3.endpoint"), p.getProperty("s3.region"), Boolean.parseBoolean(p.getProperty("s3.path-style")),
                    whenRequired, p.getProperty("aws.profile"));
        } catch (IOException | NumberFormatException | NullPointerException e) {
            throw new IllegalArgumentException("site record " + where + " is unreadable: " + e.getMessage());
        }
    }

    /** One line for people: name, storage and how it is reached. */
    public String describe() {
        StringBuilder b = new StringBuilder(name).append("  ").append(storage());
        if (endpoint != null) {
            b.append("  endpoint ").append(endpoint);
        }
        if (region != null) {
            b.append("  region ").append(region);
        }
        if (pathStyle) {
            b.append("  path-style");
        }
        if (profile != null) {
            b.append("  profile ").append(profile);
        }
        return b.toString();
    }
}
