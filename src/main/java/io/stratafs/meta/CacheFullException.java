package io.stratafs.meta;

/** The LMDB map is full: maps to ENOSPC. */
public class CacheFullException extends MetaException {
    public CacheFullException(String message, Throwable cause) {
        super(message, cause);
    }
}
