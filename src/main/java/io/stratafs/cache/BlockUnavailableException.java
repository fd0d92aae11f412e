package io.stratafs.cache;

import java.io.IOException;

/** A block could not be read from the cache or any target, or every copy was corrupt: maps to EIO. */
public class BlockUnavailableException extends IOException {
    public BlockUnavailableException(String message) {
        super(message);
    }
}
