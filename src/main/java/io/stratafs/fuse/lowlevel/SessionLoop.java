package io.stratafs.fuse.lowlevel;

import static io.stratafs.fuse.lowlevel.Libfuse.LIB;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * libfuse 2's request loop for one session, on Java threads of our own instead of libfuse's native
 * worker threads: the loop {@code fuse_loop_mt} runs (receive a request, process it, until the
 * kernel ends the connection or a read fails), growing by one thread whenever every thread is busy,
 * up to a bound, so requests blocked on a slow backend never starve the rest. Threads stay until the
 * session ends. Serves the low-level API ({@link LowLevelMount}) and, in the tests that compare the
 * two APIs, the path API's session.
 *
 * <p>Why not libfuse's threads: jffi attaches a native thread to the JVM for each up-call and detaches
 * it again afterwards until that thread has made 1,000 calls. Under libfuse's own loop each request
 * of a fresh mount therefore created and dropped a {@code java.lang.Thread} with fresh thread-locals:
 * about 10,000 of them in the first seconds of reading a 1 GiB file, which ran at 164 MB/s (247 MB/s
 * with this loop). Our threads are attached for life, so every callback is a plain up-call.
 *
 * <p>Leader and followers ({@link #startLeading}): on this 2-core VM a request's price is mostly
 * wake-ups, a sleeping thread woken on the other CPU for each request and the caller woken again for
 * the reply (a one-byte pipe ping-pong between two processes: 71 µs across CPUs, 19 µs when the
 * receiving side polls instead of sleeping). So one thread at a time, the reader, reads a second
 * descriptor on the connection ({@code FUSE_DEV_IOC_CLONE}, non-blocking) and polls it for a short
 * while after each request before it sleeps in the kernel; the other threads wait in Java, not in
 * the kernel, so the kernel wakes nobody for a request the reader will take. The reader answers
 * metadata requests and writes itself and goes on reading; before it serves one that may wait long
 * (a read, whose block may come from a bucket; an fsync) it hands the reader's part to a waiting
 * thread, so a slow backend never holds the queue. If a request it kept takes longer than
 * {@code reliefNanos} after all (a change waiting for room in the commit queue, a write held at the
 * dirty limit, a collector's pause), a watcher thread hands the part on the same way.
 */
public final class SessionLoop {
    private static final Logger LOG = LoggerFactory.getLogger(SessionLoop.class);
    private static final int EINTR = 4;
    private static final int EAGAIN = 11;
    /** {@code struct fuse_buf} on LP64: size_t size, int flags, void *mem, int fd, off_t pos. */
    private static final int FUSE_BUF_BYTES = 40;
    /** Where {@code struct fuse_in_header} keeps the opcode: after its {@code uint32_t len}. */
    private static final int OPCODE_OFFSET = 4;
    /** Where libfuse 2.9's {@code struct fuse_chan} keeps its session: after its three ops pointers. */
    static final int CHAN_SESSION_OFFSET = 24;
    private static final int OP_READ = 15;
    private static final int OP_FSYNC = 20;
    private static final int OP_FSYNCDIR = 30;
    private static final int OP_SETLKW = 33;

    private final Runtime runtime = Runtime.getSystemRuntime();
    private final Pointer session;
    private final Pointer chan;
    private final long bufsize;
    private final String threadName;
    private final int maxThreads;
    private final String what;
    /** Threads waiting for a request; when the last one takes one, another starts. */
    private final AtomicInteger idle = new AtomicInteger();
    private final List<Thread> workers = new ArrayList<>();
    private final CountDownLatch firstEnded = new CountDownLatch(1);
    private volatile boolean ended;
    private volatile boolean failed;

    /** Leader mode: the channel over the cloned descriptor, and that descriptor. */
    private Pointer readChan;
    private int readFd = -1;
    private long spinNanos;
    private long reliefNanos;
    private final AtomicReference<Follower> reader = new AtomicReference<>();
    private final ConcurrentLinkedDeque<Follower> waiting = new ConcurrentLinkedDeque<>();
    private Thread watcher;
    private final AtomicLong kept = new AtomicLong();
    private final AtomicLong handedOff = new AtomicLong();
    private final AtomicLong relieved = new AtomicLong();
    private final AtomicLong slept = new AtomicLong();

    /**
     * A loop over {@code session}'s channel {@code chan}; threads are named {@code threadName-N},
     * at most {@code maxThreads}; {@code what} names the mount in log lines.
     */
    public SessionLoop(Pointer session, Pointer chan, String threadName, int maxThreads, String what) {
        this.session = session;
        this.chan = chan;
        this.readChan = chan;
        this.bufsize = LIB.fuse_chan_bufsize(chan);
        this.threadName = threadName;
        this.maxThreads = maxThreads;
        this.what = what;
    }

    /** Starts {@code threads} serving threads, each reading the session's own descriptor. */
    public void start(int threads) {
        for (int i = 0; i < threads; i++) {
            startWorker(this::loop);
        }
    }

    /**
     * Starts serving in leader mode: one reader at a time on a cloned descriptor, polling it for
     * {@code spinNanos} after each request, relieved after {@code reliefNanos} in one request.
     * Returns false, having started nothing, when the kernel refuses a second descriptor (then
     * {@link #start} serves).
     */
    public boolean startLeading(int threads, long spinNanos, long reliefNanos) {
        int fd = DevFuse.cloneNonBlocking(LIB.fuse_chan_fd(chan));
        if (fd < 0) {
            LOG.warn("no second descriptor on /dev/fuse for {} (errno {}); serving without polling", what, -fd);
            return false;
        }
        Pointer c = LIB.fuse_kern_chan_new(fd);
        if (c == null) {
            DevFuse.close(fd);
            return false;
        }
        c.putPointer(CHAN_SESSION_OFFSET, session);
        this.readFd = fd;
        this.readChan = c;
        this.spinNanos = spinNanos;
        this.reliefNanos = reliefNanos;
        watcher = new Thread(this::watch, threadName + "-watch");
        watcher.setDaemon(true);
        synchronized (workers) {
            workers.add(watcher);
        }
        watcher.start();
        for (int i = 0; i < threads; i++) {
            startWorker(this::lead);
        }
        return true;
    }

    /**
     * Requests served in leader mode: by the reader itself, handed on with the reader's part,
     * reader's parts taken over by the watcher, and the times the reader slept in the kernel.
     */
    public record Stats(long kept, long handedOff, long relieved, long sleeps) {
    }

    public Stats stats() {
        return new Stats(kept.get(), handedOff.get(), relieved.get(), slept.get());
    }

    /** The channel requests are read from, and so the one their replies go to. */
    Pointer replyChannel() {
        return readChan;
    }

    /** After {@link #awaitEnd}: closes the cloned descriptor, if any. */
    void destroy() {
        if (readChan != chan) {
            LOG.info("{}: {}", what, stats());
            readChan.putPointer(CHAN_SESSION_OFFSET, null);
            LIB.fuse_chan_destroy(readChan);
            readChan = chan;
        }
    }

    /** Whether a serving thread has returned: the kernel ended the session, or a read failed. */
    public boolean ended() {
        return ended;
    }

    /** Whether a read of /dev/fuse failed (not an unmount); the session is exited then. */
    public boolean failed() {
        return failed;
    }

    /** Waits until a first serving thread returns (the others may still be blocked reading). */
    public void awaitFirstEnd() throws InterruptedException {
        firstEnded.await();
    }

    /** Waits until every serving thread has returned, including any started while waiting. */
    public void awaitEnd() throws InterruptedException {
        for (int joined = 0; ; ) {
            List<Thread> all;
            synchronized (workers) {
                all = new ArrayList<>(workers);
            }
            if (joined == all.size()) {
                return;
            }
            for (Thread t : all) {
                t.join();
            }
            joined = all.size();
        }
    }

    private void startWorker(Runnable body) {
        synchronized (workers) {
            if (ended || workers.size() >= maxThreads) {
                return;
            }
            Thread t = new Thread(() -> serve(body), threadName + "-" + workers.size());
            t.setDaemon(true);
            workers.add(t);
            idle.incrementAndGet();
            t.start();
        }
    }

    private void serve(Runnable body) {
        try {
            body.run();
        } finally {
            ended = true;
            firstEnded.countDown();
            wakeAll();
        }
    }

    /** The request buffer of one thread: libfuse's {@code struct fuse_buf} over our own memory. */
    private final class Buffer {
        final Pointer mem = Memory.allocateDirect(runtime, (int) bufsize);
        final Pointer buf = Memory.allocateDirect(runtime, FUSE_BUF_BYTES);
        final Pointer from = Memory.allocateDirect(runtime, runtime.addressSize());

        /** Reads one request from {@code ch}: its size, 0 when the session ended, or -errno. */
        int receive(Pointer ch) {
            buf.putLong(0, bufsize);
            buf.putInt(8, 0);
            buf.putPointer(16, mem);
            buf.putInt(24, 0);
            buf.putLong(32, 0);
            from.putPointer(0, ch);
            return LIB.fuse_session_receive_buf(session, buf, from);
        }

        void process() {
            LIB.fuse_session_process_buf(session, buf, from.getPointer(0));
        }

        int opcode() {
            return mem.getInt(OPCODE_OFFSET);
        }
    }

    /** Ends the session after a read returned {@code res} (0: unmounted; below 0: failed). */
    private void endAfter(int res) {
        if (res < 0) {
            failed = true;
            LOG.error("reading /dev/fuse for {} failed with errno {}", what, -res);
        }
        LIB.fuse_session_exit(session);
    }

    private void loop() {
        Buffer b = new Buffer();
        while (LIB.fuse_session_exited(session) == 0) {
            int res = b.receive(chan);
            if (res == -EINTR || res == -EAGAIN) {
                continue;
            }
            if (res <= 0) {
                endAfter(res);
                return;
            }
            if (idle.decrementAndGet() == 0) {
                startWorker(this::loop);
            }
            try {
                b.process();
            } finally {
                idle.incrementAndGet();
            }
        }
    }

    /** A serving thread in leader mode, and what the others know of it. */
    private static final class Follower {
        final Thread thread = Thread.currentThread();
        /** When it began serving a request it kept as the reader; 0 when it is not serving one. */
        volatile long servingSince;
        /** Whether it sleeps in the kernel waiting for a request (then the watcher sleeps too). */
        volatile boolean asleep;
        volatile boolean called;
    }

    /**
     * Requests the reader hands on before serving them: reads (a block may come from a bucket),
     * fsyncs (they wait for the disk) and lock waits. Writes stay with it: they are copied into a
     * buffer (writing 1 GiB: 765 and 850 MiB/s against 547 and 496 handed on, two rounds each), and one held
     * at the dirty limit is relieved like any other.
     */
    private static boolean handsOff(int opcode) {
        return opcode == OP_READ || opcode == OP_FSYNC || opcode == OP_FSYNCDIR || opcode == OP_SETLKW;
    }

    private boolean stopping() {
        return ended || LIB.fuse_session_exited(session) != 0;
    }

    private void lead() {
        Follower me = new Follower();
        Buffer b = new Buffer();
        while (!stopping()) {
            if (reader.get() != me && !reader.compareAndSet(null, me)) {
                follow(me);
                continue;
            }
            int res = read(me, b);
            if (res == -EINTR) {
                continue;
            }
            if (res <= 0) {
                endAfter(res);
                return;
            }
            if (handsOff(b.opcode())) {
                handedOff.incrementAndGet();
                if (reader.compareAndSet(me, null)) {
                    callOne();
                }
                b.process();
            } else {
                kept.incrementAndGet();
                me.servingSince = System.nanoTime();
                try {
                    b.process();
                } finally {
                    me.servingSince = 0;
                }
            }
        }
    }

    /** As the reader: polls the cloned descriptor for {@code spinNanos}, then sleeps in the kernel until a request comes. */
    private int read(Follower me, Buffer b) {
        long until = System.nanoTime() + spinNanos;
        while (true) {
            int res = b.receive(readChan);
            if (res != -EAGAIN) {
                if (me.asleep) {
                    me.asleep = false;
                    DevFuse.setBlocking(readFd, false);
                    LockSupport.unpark(watcher);
                }
                return res;
            }
            if (System.nanoTime() - until < 0) {
                Thread.yield();
            } else {
                slept.incrementAndGet();
                me.asleep = true;
                DevFuse.setBlocking(readFd, true);
            }
        }
    }

    /** Waits in Java until called to read (or the session ends). */
    private void follow(Follower me) {
        me.called = false;
        waiting.addFirst(me);
        if (reader.get() == null && waiting.remove(me)) {
            return;
        }
        while (!me.called && !stopping()) {
            LockSupport.park(this);
        }
    }

    /** Calls a waiting thread to take the reader's part, or starts one if none waits. */
    private void callOne() {
        Follower f = waiting.pollFirst();
        if (f == null) {
            startWorker(this::lead);
            return;
        }
        f.called = true;
        LockSupport.unpark(f.thread);
    }

    /** Hands the reader's part on when the reader has served one request for longer than {@code reliefNanos}. */
    private void watch() {
        while (!stopping()) {
            Follower r = reader.get();
            if (r != null && r.asleep) {
                LockSupport.park(this);
                continue;
            }
            long since = r == null ? 0 : r.servingSince;
            if (since != 0 && System.nanoTime() - since > reliefNanos && reader.compareAndSet(r, null)) {
                relieved.incrementAndGet();
                callOne();
            }
            LockSupport.parkNanos(this, reliefNanos);
        }
    }

    private void wakeAll() {
        List<Thread> all;
        synchronized (workers) {
            all = new ArrayList<>(workers);
        }
        for (Thread t : all) {
            LockSupport.unpark(t);
        }
    }
}
