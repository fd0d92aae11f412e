package io.stratafs.sync;

import io.stratafs.store.StoreException;

/** Two different sites under one name: refused, because a name is what every operation id carries. */
public final class SiteClashException extends StoreException {
    public SiteClashException(String message) {
        super(message);
    }
}
