package io.stratafs.journal;

import io.stratafs.store.StoreException;

/**
 * A log object is not what it must be (corrupt, truncated, out of order, a gap between segments):
 * never skipped, since applying a log with a hole would lose or reorder operations. The message
 * names the object and the place in it.
 */
public class LogIntegrityException extends StoreException {
    public LogIntegrityException(String message) {
        super(message);
    }
}
