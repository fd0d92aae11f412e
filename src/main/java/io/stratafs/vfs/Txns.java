package io.stratafs.vfs;

import io.stratafs.meta.Inode;
import io.stratafs.meta.Kv;
import io.stratafs.meta.KvTxn;
import io.stratafs.meta.KvWriteTxn;
import io.stratafs.meta.Namespace;

/** Runs VFS bodies that throw {@link FsException} inside {@link Kv} transactions. */
public final class Txns {
    private Txns() {
    }

    @FunctionalInterface
    interface ReadBody<T> {
        T apply(KvTxn txn) throws FsException;
    }

    @FunctionalInterface
    public interface WriteBody<T> {
        T apply(KvWriteTxn txn) throws FsException;
    }

    /** Carries an FsException out of a Kv callback, which cannot throw checked exceptions. */
    private static final class Escape extends RuntimeException {
        final FsException error;

        Escape(FsException error) {
            super(null, null, false, false);
            this.error = error;
        }
    }

    static <T> T read(Kv kv, ReadBody<T> body) throws FsException {
        try {
            return kv.read(txn -> escaping(() -> body.apply(txn)));
        } catch (Escape e) {
            throw e.error;
        }
    }

    public static <T> T write(Kv kv, WriteBody<T> body) throws FsException {
        try {
            return kv.write(txn -> escaping(() -> body.apply(txn)));
        } catch (Escape e) {
            throw e.error;
        }
    }

    @FunctionalInterface
    private interface Body<T> {
        T apply() throws FsException;
    }

    private static <T> T escaping(Body<T> body) {
        try {
            return body.apply();
        } catch (FsException e) {
            throw new Escape(e);
        }
    }

    static Inode inodeOrFail(KvTxn txn, long ino) throws FsException {
        Inode inode = Namespace.inode(txn, ino);
        if (inode == null) {
            throw new FsException(Errno.ENOENT, "inode " + ino + " is gone");
        }
        return inode;
    }
}
