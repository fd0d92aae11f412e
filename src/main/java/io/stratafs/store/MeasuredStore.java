package io.stratafs.store;

import io.stratafs.metrics.ErrorKind;
import io.stratafs.metrics.LatencyHistogram;
import io.stratafs.metrics.VolumeMetrics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Times every request to one target and counts the bytes it moved and the requests that failed, into
 * the volume's {@link VolumeMetrics}: the one place where storage traffic is measured, whatever the
 * kind of store and whoever asks (uploads, reads, catch-up, checkpoints). A missing object or a
 * lost create race is an answer, not a failure of the target.
 */
public final class MeasuredStore implements ObjectStore {
    private final ObjectStore inner;
    private final VolumeMetrics metrics;
    private final String target;

    public MeasuredStore(ObjectStore inner, VolumeMetrics metrics) {
        this.inner = inner;
        this.metrics = metrics;
        this.target = inner.describe();
    }

    /** The wrapped store (for what only its kind can answer, such as the free space of a directory). */
    public ObjectStore inner() {
        return inner;
    }

    @FunctionalInterface
    private interface Request<T> {
        T run() throws StoreException;
    }

    private <T> T timed(String op, Request<T> request) throws StoreException {
        LatencyHistogram latency = metrics.storeRequest(op, target);
        long start = System.nanoTime();
        try {
            return request.run();
        } catch (ObjectNotFoundException | ObjectExistsException e) {
            throw e;
        } catch (StoreException | RuntimeException e) {
            metrics.error(ErrorKind.TARGET_UNAVAILABLE);
            throw e;
        } finally {
            latency.observeNanos(System.nanoTime() - start);
        }
    }

    @Override
    public String describe() {
        return target;
    }

    @Override
    public void check() throws StoreException {
        timed("check", () -> {
            inner.check();
            return null;
        });
    }

    @Override
    public void put(String key, byte[] data) throws StoreException {
        timed("put", () -> {
            inner.put(key, data);
            return null;
        });
        metrics.uploads().add(data.length);
    }

    @Override
    public void putBlock(String key, byte[] data, int crc32c) throws StoreException {
        timed("put", () -> {
            inner.putBlock(key, data, crc32c);
            return null;
        });
        metrics.uploads().add(data.length);
    }

    @Override
    public void create(String key, byte[] data) throws StoreException {
        timed("create", () -> {
            inner.create(key, data);
            return null;
        });
        metrics.uploads().add(data.length);
    }

    @Override
    public void putAll(List<String> keys, List<byte[]> data) throws StoreException {
        timed("put_all", () -> {
            inner.putAll(keys, data);
            return null;
        });
        for (byte[] d : data) {
            metrics.uploads().add(d.length);
        }
    }

    @Override
    public boolean putsInGroups() {
        return inner.putsInGroups();
    }

    @Override
    public void putFile(String key, Path file) throws StoreException {
        timed("put_file", () -> {
            inner.putFile(key, file);
            return null;
        });
        try {
            metrics.uploads().add(Files.size(file));
        } catch (IOException e) {
            // the object is stored; only the byte count of a spool file removed meanwhile is lost
        }
    }

    @Override
    public byte[] get(String key) throws StoreException {
        byte[] data = timed("get", () -> inner.get(key));
        metrics.downloads().add(data.length);
        return data;
    }

    @Override
    public byte[] getRange(String key, long offset, int length) throws StoreException {
        byte[] data = timed("get_range", () -> inner.getRange(key, offset, length));
        metrics.downloads().add(data.length);
        return data;
    }

    @Override
    public boolean exists(String key) throws StoreException {
        return timed("exists", () -> inner.exists(key));
    }

    @Override
    public List<String> list(String prefix) throws StoreException {
        return timed("list", () -> inner.list(prefix));
    }

    @Override
    public List<String> listAfter(String prefix, String startAfter) throws StoreException {
        return timed("list", () -> inner.listAfter(prefix, startAfter));
    }

    @Override
    public List<ObjectInfo> listInfo(String prefix) throws StoreException {
        return timed("list", () -> inner.listInfo(prefix));
    }

    @Override
    public ObjectInfo stat(String key) throws StoreException {
        return timed("exists", () -> inner.stat(key));
    }

    @Override
    public void delete(String key) throws StoreException {
        timed("delete", () -> {
            inner.delete(key);
            return null;
        });
    }

    @Override
    public void close() {
        inner.close();
    }

    @Override
    public String toString() {
        return inner.toString();
    }
}
