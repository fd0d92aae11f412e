package io.stratafs.writeback;

import io.stratafs.store.StoreException;

/** A target holds something that contradicts this cache's history; uploads to it stop rather than fork. */
final class TargetConflictException extends StoreException {
    TargetConflictException(String message) {
        super(message);
    }
}
