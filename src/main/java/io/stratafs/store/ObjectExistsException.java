package io.stratafs.store;

/** A conditional create found the key already taken; the object there was left as it was. */
public class ObjectExistsException extends StoreException {
    public ObjectExistsException(String message) {
        super(message);
    }
}
