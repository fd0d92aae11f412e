package io.stratafs.store;

import java.io.IOException;

/** A storage target failed permanently; the message is a sentence for the user. */
public class StoreException extends IOException {
    public StoreException(String message) {
        super(message);
    }

    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
