package io.stratafs.store;

/** The key does not exist in this target. */
public class ObjectNotFoundException extends StoreException {
    public ObjectNotFoundException(String message) {
        super(message);
    }
}
