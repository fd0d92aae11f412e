package io.stratafs.store;

import java.util.List;

/** A test seam: passes every call to another store; tests override the calls they watch or stall. */
public class ForwardingStore implements ObjectStore {
    protected final ObjectStore inner;

    public ForwardingStore(ObjectStore inner) {
        this.inner = inner;
    }

    @Override
    public String describe() {
        return inner.describe();
    }

    @Override
    public void check() throws StoreException {
        inner.check();
    }

    @Override
    public void put(String key, byte[] data) throws StoreException {
        inner.put(key, data);
    }

    @Override
    public void create(String key, byte[] data) throws StoreException {
        inner.create(key, data);
    }

    @Override
    public void putFile(String key, java.nio.file.Path file) throws StoreException {
        inner.putFile(key, file);
    }

    @Override
    public byte[] get(String key) throws StoreException {
        return inner.get(key);
    }

    @Override
    public byte[] getRange(String key, long offset, int length) throws StoreException {
        return inner.getRange(key, offset, length);
    }

    @Override
    public boolean exists(String key) throws StoreException {
        return inner.exists(key);
    }

    @Override
    public List<String> list(String prefix) throws StoreException {
        return inner.list(prefix);
    }

    @Override
    public void delete(String key) throws StoreException {
        inner.delete(key);
    }

    @Override
    public void close() {
        inner.close();
    }

    @Override
    public List<ObjectInfo> listInfo(String prefix) throws StoreException {
        return inner.listInfo(prefix);
    }

    @Override
    public ObjectInfo stat(String key) throws StoreException {
        return inner.stat(key);
    }
}
