package io.stratafs.cache;

import java.io.IOException;

/** A dirty block can never fit into the cache (larger than its dirty limit): maps to ENOSPC. */
public class DirtyLimitException extends IOException {
    public DirtyLimitException(String message) {
        super(message);
    }
}
