package io.stratafs.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentSkipListMap;

/** An in-memory fake for unit tests, held to the same contract test as the real stores. */
public final class MemoryStore implements ObjectStore {
    private final ConcurrentSkipListMap<String, byte[]> objects = new ConcurrentSkipListMap<>();

    @Override
    public String describe() {
        return "memory:";
    }

    @Override
    public void check() {
        // always usable
    }

    @Override
    public void put(String key, byte[] data) {
        objects.put(key, data.clone());
    }

    @Override
    public void create(String key, byte[] data) throws StoreException {
        if (objects.putIfAbsent(key, data.clone()) != null) {
            throw new ObjectExistsException("object " + key + " already exists in " + describe());
        }
    }

    @Override
    public void putFile(String key, Path file) throws StoreException {
        try {
            objects.put(key, Files.readAllBytes(file));
        } catch (IOException e) {
            throw new StoreException("cannot read " + file + " to store it as " + key + ": " + e.getMessage(), e);
        }
    }

    @Override
    public byte[] get(String key) throws StoreException {
        byte[] data = objects.get(key);
        if (data == null) {
            throw new ObjectNotFoundException("object " + key + " not found in " + describe());
        }
        return data.clone();
    }

    @Override
    public byte[] getRange(String key, long offset, int length) throws StoreException {
        byte[] data = get(key);
        int from = (int) Math.min(offset, data.length);
        return Arrays.copyOfRange(data, from, (int) Math.min(data.length, (long) from + length));
    }

    @Override
    public boolean exists(String key) {
        return objects.containsKey(key);
    }

    @Override
    public List<String> list(String prefix) {
        List<String> keys = new ArrayList<>();
        for (String k : objects.tailMap(prefix, true).keySet()) {
            if (!k.startsWith(prefix)) {
                break;
            }
            keys.add(k);
        }
        return keys;
    }

    @Override
    public void delete(String key) {
        objects.remove(key);
    }

    /** Test hook: replaces an object's bytes in place, as a failing disk or a buggy server would. */
    public void corrupt(String key, byte[] bytes) {
        objects.put(key, bytes.clone());
    }

    @Override
    public void close() {
        objects.clear();
    }
}
