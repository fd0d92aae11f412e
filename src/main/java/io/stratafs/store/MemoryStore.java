package io.stratafs.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.LongSupplier;

/** An in-memory fake for unit tests, held to the same contract test as the real stores. */
public final class MemoryStore implements ObjectStore {
    private final ConcurrentSkipListMap<String, byte[]> objects = new ConcurrentSkipListMap<>();
    private final ConcurrentHashMap<String, Long> written = new ConcurrentHashMap<>();
    private final LongSupplier clock;

    public MemoryStore() {
        this(System::currentTimeMillis);
    }

    /** {@code clock}: the time, in milliseconds, each write is stamped with (tests of gc's age rule set it). */
    public MemoryStore(LongSupplier clock) {
        this.clock = clock;
    }

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
        written.put(key, clock.getAsLong());
    }

    @Override
    public void create(String key, byte[] data) throws StoreException {
        if (objects.putIfAbsent(key, data.clone()) != null) {
            throw new ObjectExistsException("object " + key + " already exists in " + describe());
        }
        written.put(key, clock.getAsLong());
    }

    @Override
    public void putFile(String key, Path file) throws StoreException {
        try {
            objects.put(key, Files.readAllBytes(file));
            written.put(key, clock.getAsLong());
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
    public List<ObjectInfo> listInfo(String prefix) {
        List<ObjectInfo> out = new ArrayList<>();
        for (String key : list(prefix)) {
            ObjectInfo info = stat(key);
            if (info != null) {
                out.add(info);
            }
        }
        return out;
    }

    @Override
    public ObjectInfo stat(String key) {
        byte[] data = objects.get(key);
        Long at = written.get(key);
        return data == null || at == null ? null : new ObjectInfo(key, data.length, at);
    }

    @Override
    public void delete(String key) {
        objects.remove(key);
        written.remove(key);
    }

    /** Test hook: replaces an object's bytes in place, as a failing disk or a buggy server would. */
    public void corrupt(String key, byte[] bytes) {
        objects.put(key, bytes.clone());
        written.putIfAbsent(key, clock.getAsLong());
    }

    @Override
    public void close() {
        objects.clear();
        written.clear();
    }
}
