package io.stratafs.store;

/** A transient failure (network, throttling, server error): the same call may succeed later. */
public class StoreUnavailableException extends StoreException {
    public StoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
