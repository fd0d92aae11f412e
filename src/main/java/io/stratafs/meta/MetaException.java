package io.stratafs.meta;

/** The local metadata store failed; the message is a sentence for the user. */
public class MetaException extends RuntimeException {
    public MetaException(String message, Throwable cause) {
        super(message, cause);
    }

    public MetaException(String message) {
        super(message);
    }
}
