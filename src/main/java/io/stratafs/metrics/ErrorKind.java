package io.stratafs.metrics;

/** The kinds of error counted since mount; {@link #label} is the Prometheus label and the status key. */
public enum ErrorKind {
    /** A storage request failed (network, server error, permission); uploads retry it. */
    TARGET_UNAVAILABLE("target_unavailable"),
    /** An object read from a target did not match its hash. */
    CORRUPT_OBJECT("corrupt_object"),
    /** A block in the local cache did not match its hash (it was fetched again). */
    CORRUPT_CACHE_BLOCK("corrupt_cache_block"),
    /** A caller got ENOSPC: the cache could not take more dirty data. */
    CACHE_FULL("cache_full"),
    /** A caller got EIO. */
    EIO("eio"),
    /** A background commit of written data to the local cache failed (reported at fsync or close). */
    COMMIT_FAILED("commit_failed");

    private final String label;

    ErrorKind(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
