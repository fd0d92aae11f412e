package io.stratafs.journal;

import io.stratafs.store.StoreException;

/**
 * A segment this site meant to publish is already on storage with other content: a second writer
 * publishes under this site's name. Nothing was overwritten; publishing must stop until an operator
 * gives one of the writers another name.
 */
public class SiteNameTakenException extends StoreException {
    public SiteNameTakenException(String message) {
        super(message);
    }
}
