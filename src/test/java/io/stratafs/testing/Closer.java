package io.stratafs.testing;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * What a test opened, closed newest first when the test ends: a block cache before the LMDB
 * environment it writes to, a write-back before the cache it uploads from. Every close runs even
 * when one throws; the first failure is thrown with the others suppressed.
 */
public final class Closer implements AutoCloseable {
    private final Deque<AutoCloseable> open = new ArrayDeque<>();

    /** Registers {@code c} to be closed before everything registered earlier; returns it. */
    public <T extends AutoCloseable> T add(T c) {
        open.push(c);
        return c;
    }

    @Override
    public void close() throws Exception {
        Exception first = null;
        while (!open.isEmpty()) {
            try {
                open.pop().close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
