package io.stratafs.fuse.lowlevel;

import static io.stratafs.fuse.lowlevel.Libfuse.LIB;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
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
 */
public final class SessionLoop {
    private static final Logger LOG = LoggerFactory.getLogger(SessionLoop.class);
    private static final int EINTR = 4;
    private static final int EAGAIN = 11;
    /** {@code struct fuse_buf} on LP64: size_t size, int flags, void *mem, int fd, off_t pos. */
    private static final int FUSE_BUF_BYTES = 40;

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

    /**
     * A loop over {@code session}'s channel {@code chan}; threads are named {@code threadName-N},
     * at most {@code maxThreads}; {@code what} names the mount in log lines.
     */
    public SessionLoop(Pointer session, Pointer chan, String threadName, int maxThreads, String what) {
        this.session = session;
        this.chan = chan;
        this.bufsize = LIB.fuse_chan_bufsize(chan);
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

    private void startWorker() {
        synchronized (workers) {
            if (ended || workers.size() >= maxThreads) {
                return;
            }
            Thread t = new Thread(this::serve, threadName + "-" + workers.size());
            t.setDaemon(true);
            workers.add(t);
            idle.incrementAndGet();
            t.start();
        }
    }

    private void serve() {
        try {
            loop();
        } finally {
            ended = true;
            firstEnded.countDown();
        }
    }

    private void loop() {
        Pointer mem = Memory.allocateDirect(runtime, (int) bufsize);
        Pointer buf = Memory.allocateDirect(runtime, FUSE_BUF_BYTES);
        Pointer from = Memory.allocateDirect(runtime, runtime.addressSize());
        while (LIB.fuse_session_exited(session) == 0) {
            buf.putLong(0, bufsize);
            buf.putInt(8, 0);
            buf.putPointer(16, mem);
            buf.putInt(24, 0);
            buf.putLong(32, 0);
            from.putPointer(0, chan);
            int res = LIB.fuse_session_receive_buf(session, buf, from);
            if (res == -EINTR || res == -EAGAIN) {
                continue;
            }
            if (res <= 0) {
                if (res < 0) {
                    failed = true;
                    LOG.error("reading /dev/fuse for {} failed with errno {}", what, -res);
                }
                LIB.fuse_session_exit(session);
                return;
            }
            if (idle.decrementAndGet() == 0) {
                startWorker();
            }
            try {
                LIB.fuse_session_process_buf(session, buf, from.getPointer(0));
            } finally {
                idle.incrementAndGet();
            }
        }
    }
}
