package io.stratafs.cache;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Blocks fetched ahead of a sequential reader, held apart from the RAM tier until the reader has
 * read them through, and the fetches still on their way.
 *
 * <p>Why apart: a block in the RAM tier lives until the tier evicts it, long enough for the
 * collector to copy it out of the young generation and to need a marking cycle to free it; on a
 * cold read of 1 GiB from S3 the collector's threads took about as much CPU as the fetches. A
 * block here is dropped as soon as every byte of it was handed to a reader, so it dies young. A
 * block nobody reads through is dropped by the weight bound.
 *
 * <p>A reader that asks for a block whose fetch has started waits for it rather than fetching it a
 * second time; one whose fetch is still queued takes it over ({@link #takeOver}) and fetches it
 * itself.
 */
final class ReadAhead {
    /** A block held for its reader and the bytes handed out of it so far. */
    private record Held(byte[] data, AtomicLong served) {
    }

    /** A fetch claimed by {@link #claim}: started by the fetcher, or taken over by a reader. */
    static final class Fetch {
        private final AtomicBoolean started = new AtomicBoolean();
        private final CompletableFuture<Void> done = new CompletableFuture<>();

        /** Called by the fetcher before it fetches: false when a reader took the fetch over. */
        boolean start() {
            return started.compareAndSet(false, true);
        }
    }

    /** Held blocks, oldest first; guarded by itself. */
    private final java.util.LinkedHashMap<String, Held> held = new java.util.LinkedHashMap<>();
    private final long maxBytes;
    private long heldBytes;
    private final ConcurrentHashMap<String, Fetch> fetching = new ConcurrentHashMap<>();

    ReadAhead(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    private Held get(String hex) {
        synchronized (held) {
            return held.get(hex);
        }
    }

    private void hold(String hex, Held h) {
        synchronized (held) {
            Held before = held.put(hex, h);
            heldBytes += h.data().length - (before == null ? 0 : before.data().length);
            var oldest = held.values().iterator();
            while (heldBytes > maxBytes && oldest.hasNext()) {
                heldBytes -= oldest.next().data().length;
                oldest.remove();
            }
        }
    }

    private void drop(String hex, Held h) {
        synchronized (held) {
            if (held.remove(hex, h)) {
                heldBytes -= h.data().length;
            }
        }
    }

    /** Claims the fetch of a block for read-ahead; null when it is held or being fetched already. */
    Fetch claim(String hex) {
        if (get(hex) != null) {
            return null;
        }
        Fetch f = new Fetch();
        return fetching.putIfAbsent(hex, f) == null ? f : null;
    }

    /** Ends a claimed fetch: holds the block for its reader when {@code data} is not null (null: failed or not needed). */
    void finish(String hex, Fetch f, byte[] data) {
        if (data != null) {
            hold(hex, new Held(data, new AtomicLong()));
        }
        fetching.remove(hex, f);
        f.done.complete(null);
    }

    /** The bytes of a held block, not counted as read (a whole-block reader copies or keeps them). */
    byte[] peek(String hex) {
        Held h = get(hex);
        return h == null ? null : h.data();
    }

    /**
     * Copies {@code n} bytes of a held block from {@code from} into {@code dst} at {@code dstOff},
     * zeros past its end, and counts them as handed to a reader; once all of the block was, it is
     * dropped. False (nothing copied) when the block is not held.
     */
    boolean serve(String hex, int from, byte[] dst, int dstOff, int n) {
        Held h = get(hex);
        if (h == null) {
            return false;
        }
        byte[] data = h.data();
        int avail = Math.max(0, Math.min(n, data.length - from));
        if (avail > 0) {
            System.arraycopy(data, from, dst, dstOff, avail);
        }
        java.util.Arrays.fill(dst, dstOff + avail, dstOff + n, (byte) 0);
        if (h.served().addAndGet(avail) >= data.length) {
            drop(hex, h);
        }
        return true;
    }

    /**
     * Waits for a fetch of the block that has started; takes over one still queued (the queued task
     * then does nothing). Returns at once when there is none.
     */
    void awaitOrTakeOver(String hex) {
        Fetch f = fetching.get(hex);
        if (f == null) {
            return;
        }
        if (takeOver(hex, f)) {
            return;
        }
        f.done.join();
    }

    private boolean takeOver(String hex, Fetch f) {
        if (!f.start()) {
            return false;
        }
        finish(hex, f, null);
        return true;
    }

    /** Bytes held for readers now. */
    long heldBytes() {
        synchronized (held) {
            return heldBytes;
        }
    }
}
