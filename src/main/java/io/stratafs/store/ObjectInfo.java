package io.stratafs.store;

/**
 * What a listing says about one object: its key, its size, and when it was last written (by the
 * target's clock), which gc compares with {@code --min-age}.
 */
public record ObjectInfo(String key, long size, long lastModifiedMillis) {
}
