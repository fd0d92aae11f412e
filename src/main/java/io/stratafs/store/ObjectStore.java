package io.stratafs.store;

import java.nio.file.Path;
import java.util.List;

/**
 * One storage target: a flat namespace of immutable objects addressed by key.
 *
 * <p>Keys are relative ("blocks/ab/ab12...", "journal/main/0000000000000001"); an implementation
 * maps them under its own root (a directory, or a bucket and prefix). Every method is thread-safe.
 * Failures are typed: {@link ObjectNotFoundException} for a missing key,
 * {@link StoreUnavailableException} for a transient fault worth retrying later, and
 * {@link StoreException} for anything permanent (bad credentials, missing bucket).
 */
public interface ObjectStore extends AutoCloseable {

    /** A human-readable location without any secret, e.g. {@code file:///srv/vol} or {@code s3://b/p}. */
    String describe();

    /** Fails with a sentence a user can act on when the target is unusable (missing, no access). */
    void check() throws StoreException;

    /** Stores the object; replaces an existing one atomically (readers see old or new, never a mix). */
    void put(String key, byte[] data) throws StoreException;

    /**
     * Stores a block ({@code blocks/ab/ab12...}) as {@link #put} does, with the CRC32C of its bytes
     * that was computed when the block was written (docs/FORMAT.md, {@code cache_info}). A store
     * whose server checks such a checksum may send the body with it in place of a signed SHA-256
     * of the body (S3: {@code UNSIGNED-PAYLOAD} with {@code x-amz-checksum-crc32c}), so the server
     * still refuses bytes that changed since the block was named. Others ignore it.
     */
    default void putBlock(String key, byte[] data, int crc32c) throws StoreException {
        put(key, data);
    }

    /**
     * Stores the object only if the key is free, atomically: of two writers creating one key, exactly
     * one succeeds; the other gets {@link ObjectExistsException} and the object stays as the first
     * wrote it. Used for objects that must never be replaced (journal segments).
     */
    void create(String key, byte[] data) throws StoreException;

    /**
     * Stores the content of a local file as the object, with {@link #put}'s atomicity, without
     * reading it into memory (checkpoints of large volumes are hundreds of megabytes).
     */
    void putFile(String key, Path file) throws StoreException;

    /**
     * Stores several objects, each as {@link #put} would, and returns once all of them are stored
     * and durable. On a failure any subset may be stored (each one complete or absent), so the caller
     * treats none as stored. For stores that make a group durable more cheaply than one object at a
     * time ({@link #putsInGroups}); the default puts them one by one.
     */
    default void putAll(List<String> keys, List<byte[]> data) throws StoreException {
        for (int i = 0; i < keys.size(); i++) {
            put(keys.get(i), data.get(i));
        }
    }

    /**
     * Whether {@link #putAll} of many objects costs less than as many parallel {@link #put}s: a local
     * directory makes a group durable with two filesystem syncs instead of two fsyncs per object,
     * while S3 answers each put on its own connection, so parallel puts are what makes it fast.
     */
    default boolean putsInGroups() {
        return false;
    }

    /** Returns the whole object. */
    byte[] get(String key) throws StoreException;

    /** Returns {@code length} bytes from {@code offset} (fewer at the end of the object). */
    byte[] getRange(String key, long offset, int length) throws StoreException;

    boolean exists(String key) throws StoreException;

    /** All keys that start with {@code prefix}, in ascending order. */
    List<String> list(String prefix) throws StoreException;

    /**
     * The keys that start with {@code prefix} and sort after {@code startAfter}, in ascending order:
     * a reader of a growing log asks only for what is new (S3 sends {@code StartAfter}, so a long
     * prefix costs no more requests than its new part).
     */
    default List<String> listAfter(String prefix, String startAfter) throws StoreException {
        List<String> keys = new java.util.ArrayList<>();
        for (String k : list(prefix)) {
            if (k.compareTo(startAfter) > 0) {
                keys.add(k);
            }
        }
        return keys;
    }

    /** Like {@link #list}, with each object's size and last write time (gc's age rule needs them). */
    List<ObjectInfo> listInfo(String prefix) throws StoreException;

    /** One object's size and last write time, or null when it does not exist (see {@link #listInfo}). */
    ObjectInfo stat(String key) throws StoreException;

    /** Deletes the object; deleting a missing key is not an error. */
    void delete(String key) throws StoreException;

    @Override
    void close();
}
