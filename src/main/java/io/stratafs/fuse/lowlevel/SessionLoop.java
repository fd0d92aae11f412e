package io.stratafs.fuse.lowlevel;

import static io.stratafs.fuse.lowlevel.Libfuse.LIB;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
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
 * <p>At most {@value #READERS} threads wait in the kernel for the next request; the others wait
 * here, parked, and the most recently parked one is the first called back. The kernel wakes the
 * thread that has waited longest, so with every thread reading, one request after another went
 * round all of them (30 after an ordinary workload), each on a thread whose stack, thread-locals and
 * native scratch memory had gone cold; a lone caller (stat, cp, rm) now alternates between two warm
 * threads, as under libfuse's own loop, which lets no more than 10 idle threads stay.
 *
 * <p>Why not libfuse's threads: jffi attaches a native thread to the JVM for each up-call and detaches
 * it again afterwards until that thread has made 1,000 calls. Under libfuse's own loop each request
 * of a fresh mount therefore created and dropped a {@code java.lang.Thread} with fresh thread-locals:
 * about 10,000 of them in the first seconds of reading a 1 GiB file, which ran at 164 MB/s (247 MB/s
 * with this loop). Our threads are attached for life, so every callback is a plain up-call.
 */
public final class SessionLoop {
    private static final Logger LOG = LoggerFactory.getLogger(SessionLoop.class);
    private static final int EINTR = 4;
    private static final int EAGAIN = 11;
    /** {@code struct fuse_buf} on LP64: size_t size, int flags, void *mem, int fd, off_t pos. */
    private static final int FUSE_BUF_BYTES = 40;
    /**
     * Threads reading /dev/fuse at once: two, so a second request arriving while one is served finds
     * a reader without waiting for a parked thread to be woken.
     */
    static final int READERS = 2;

    private final Channel channel;
    private final String threadName;
    private final int maxThreads;
    private final String what;
    /** Threads reading or about to read; when the last one takes a request, a spare is called or another starts. */
    private final AtomicInteger readers = new AtomicInteger();
    /** Parked threads, the most recently parked first. */
    private final ConcurrentLinkedDeque<Spare> spares = new ConcurrentLinkedDeque<>();
    private final List<Thread> workers = new ArrayList<>();
    private final CountDownLatch firstEnded = new CountDownLatch(1);
    private volatile boolean ended;
    private volatile boolean failed;

    /**
     * A loop over {@code session}'s channel {@code chan}; threads are named {@code threadName-N},
     * at most {@code maxThreads}; {@code what} names the mount in log lines.
     */
    public SessionLoop(Pointer session, Pointer chan, String threadName, int maxThreads, String what) {
        this(new NativeChannel(session, chan), threadName, maxThreads, what);
    }

    /** A loop over any {@link Channel}: the tests' seam for the threading policy. */
    SessionLoop(Channel channel, String threadName, int maxThreads, String what) {
        this.channel = channel;
        this.threadName = threadName;
        this.maxThreads = maxThreads;
        this.what = what;
    }

    /** Starts {@code threads} serving threads. */
    public void start(int threads) {
        for (int i = 0; i < threads; i++) {
            startWorker();
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

    /** The number of threads serving the session, reading, busy or parked. */
    public int threads() {
        synchronized (workers) {
            return workers.size();
        }
    }

    /** The number of threads parked, waiting to be called to read. */
    int parked() {
        return spares.size();
    }

    /** A new thread that starts as a reader (counted before it runs, so it is not started twice). */
    private void startWorker() {
        synchronized (workers) {
            if (ended || workers.size() >= maxThreads) {
                return;
            }
            Thread t = new Thread(this::serve, threadName + "-" + workers.size());
            t.setDaemon(true);
            workers.add(t);
            readers.incrementAndGet();
            t.start();
        }
    }

    /** Calls the most recently parked thread to read, counting it as a reader; else starts one. */
    private void callReader() {
        Spare s = spares.pollFirst();
        if (s == null) {
            startWorker();
            return;
        }
        readers.incrementAndGet();
        s.called = true;
        LockSupport.unpark(s.thread);
    }

    /**
     * After serving a request: reads again if fewer than {@link #READERS} threads do, else parks
     * until called. False once the session ended.
     */
    private boolean awaitTurn() {
        for (int r = readers.get(); r < READERS; r = readers.get()) {
            if (readers.compareAndSet(r, r + 1)) {
                return true;
            }
        }
        Spare me = new Spare(Thread.currentThread());
        spares.addFirst(me);
        // a reader that took a request between the check and the push found no spare and started a
        // thread instead; a second look makes sure this one is not left parked while none reads
        if (readers.get() == 0 && spares.remove(me)) {
            readers.incrementAndGet();
            return true;
        }
        while (!me.called) {
            if (ended) {
                return false;
            }
            LockSupport.park(this);
        }
        return true;
    }

    private void serve() {
        try {
            loop();
        } finally {
            ended = true;
            firstEnded.countDown();
            for (Spare s : spares) {
                LockSupport.unpark(s.thread);
            }
        }
    }

    private void loop() {
        Reader reader = channel.reader();
        while (!channel.exited()) {
            int res = reader.receive();
            if (res == -EINTR || res == -EAGAIN) {
                continue;
            }
            if (res <= 0) {
                if (res < 0) {
                    failed = true;
                    LOG.error("reading /dev/fuse for {} failed with errno {}", what, -res);
                }
                channel.exit();
                return;
            }
            if (readers.decrementAndGet() == 0) {
                callReader();
            }
            reader.process();
            if (!awaitTurn()) {
                return;
            }
        }
    }

    /** Where requests come from: libfuse's session, or a test's queue. */
    interface Channel {
        /** The per-thread state of one serving thread. */
        Reader reader();

        boolean exited();

        /** Ends the session: every thread returns after its current request. */
        void exit();
    }

    /** One serving thread's side of a {@link Channel}. */
    interface Reader {
        /** Waits for the next request: its size, 0 when the session ended, or minus an errno. */
        int receive();

        /** Serves the request {@link #receive} returned; it replies itself. */
        void process();
    }

    /** libfuse 2's session and channel: each reader owns a receive buffer in native memory. */
    private static final class NativeChannel implements Channel {
        private final Runtime runtime = Runtime.getSystemRuntime();
        private final Pointer session;
        private final Pointer chan;
        private final long bufsize;

        NativeChannel(Pointer session, Pointer chan) {
            this.session = session;
            this.chan = chan;
            this.bufsize = LIB.fuse_chan_bufsize(chan);
        }

        @Override
        public Reader reader() {
            Pointer mem = Memory.allocateDirect(runtime, (int) bufsize);
            Pointer buf = Memory.allocateDirect(runtime, FUSE_BUF_BYTES);
            Pointer from = Memory.allocateDirect(runtime, runtime.addressSize());
            return new Reader() {
                @Override
                public int receive() {
                    buf.putLong(0, bufsize);
                    buf.putInt(8, 0);
                    buf.putPointer(16, mem);
                    buf.putInt(24, 0);
                    buf.putLong(32, 0);
                    from.putPointer(0, chan);
                    return LIB.fuse_session_receive_buf(session, buf, from);
                }

                @Override
                public void process() {
                    LIB.fuse_session_process_buf(session, buf, from.getPointer(0));
                }
            };
        }

        @Override
        public boolean exited() {
            return LIB.fuse_session_exited(session) != 0;
        }

        @Override
        public void exit() {
            LIB.fuse_session_exit(session);
        }
    }

    /** A parked thread; {@code called} is set before it is unparked, so a spurious wake-up parks again. */
    private static final class Spare {
        final Thread thread;
        volatile boolean called;

        Spare(Thread thread) {
            this.thread = thread;
        }
    }
}
