package io.stratafs.sync;

import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/** A site's replica of the namespace (rules being written; see sites-design). */
public final class Replica {
    private final String site;

    public Replica(String site, LongSupplier wallMillis, ReplicaStore store) {
        this.site = site;
    }

    public String site() {
        return site;
    }

    public Envelope create(String path, int mode, int uid, int gid, long rdev, byte[] symlinkTarget) throws SyncException {
        throw new UnsupportedOperationException();
    }

    public Envelope link(String existing, String newPath) throws SyncException {
        throw new UnsupportedOperationException();
    }

    public Envelope rename(String from, String to) throws SyncException {
        throw new UnsupportedOperationException();
    }

    public Envelope remove(String path) throws SyncException {
        throw new UnsupportedOperationException();
    }

    public Envelope setAttr(String path, int mask, int mode, int uid, int gid, long atimeNs, long mtimeNs)
            throws SyncException {
        throw new UnsupportedOperationException();
    }

    public Envelope setXattr(String path, String name, byte[] valueOrNullToRemove) throws SyncException {
        throw new UnsupportedOperationException();
    }

    public Envelope write(String path, Manifest content, long mtimeNs) throws SyncException {
        throw new UnsupportedOperationException();
    }

    public Envelope discardConflictCopy(String path) throws SyncException {
        throw new UnsupportedOperationException();
    }

    public List<Envelope> log(long afterSeq) {
        throw new UnsupportedOperationException();
    }

    public boolean ready(Envelope e) {
        throw new UnsupportedOperationException();
    }

    public void apply(Envelope e) {
        throw new UnsupportedOperationException();
    }

    public Map<String, Long> cursors() {
        throw new UnsupportedOperationException();
    }

    public Tree tree() {
        throw new UnsupportedOperationException();
    }
}
