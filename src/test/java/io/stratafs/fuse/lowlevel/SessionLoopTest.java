package io.stratafs.fuse.lowlevel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The serving threads' policy, on a queue standing in for /dev/fuse (whose readers, like the
 * kernel's, are woken longest-waiting first): a lone caller is served by {@link SessionLoop#READERS}
 * threads while the rest stay parked; requests that block make the loop grow, so the next one is
 * still served; ending the session ends every thread, parked ones too.
 */
class SessionLoopTest {
    private static final long DEADLINE_MS = 10_000;
    private static final Runnable END = () -> { };

    private final QueueChannel channel = new QueueChannel();
    private SessionLoop loop;

    @AfterEach
    void end() throws Exception {
        if (loop != null) {
            channel.exit();
            CompletableFuture.runAsync(() -> {
                try {
                    loop.awaitEnd();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }).get(DEADLINE_MS, TimeUnit.MILLISECONDS);
        }
    }

    @Test
    void aLoneCallerIsServedByTwoWarmThreadsWhileTheOthersPark() throws Exception {
        loop = new SessionLoop(channel, "test-loop", 64, "test");
        loop.start(16);
        // the first requests go round the 16 starting threads; each but the last readers parks after serving
        for (int i = 0; i < 16; i++) {
            serveAlone(() -> { });
        }
        Set<String> servers = new HashSet<>();
        for (int i = 0; i < 1_000; i++) {
            serveAlone(() -> servers.add(Thread.currentThread().getName()));
        }
        assertEquals(SessionLoop.READERS, servers.size(), "threads that served a lone caller: " + servers);
        assertEquals(16, loop.threads(), "a lone caller started no thread");
        assertEquals(16 - SessionLoop.READERS, loop.parked());
    }

    @Test
    void requestsThatBlockMakeTheLoopGrowSoTheNextIsStillServed() throws Exception {
        loop = new SessionLoop(channel, "test-loop", 64, "test");
        loop.start(4);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger blocked = new AtomicInteger();
        for (int i = 0; i < 20; i++) {
            channel.submit(() -> {
                blocked.incrementAndGet();
                await(release);
            });
        }
        waitUntil(() -> blocked.get() == 20, "20 blocked requests each hold a thread");
        CountDownLatch served = new CountDownLatch(1);
        channel.submit(served::countDown);
        assertTrue(served.await(DEADLINE_MS, TimeUnit.MILLISECONDS), "a request behind 20 blocked ones was served");
        assertTrue(loop.threads() >= 21, "threads: " + loop.threads());
        release.countDown();
        waitUntil(() -> channel.waiting.get() + loop.parked() == loop.threads(), "every thread back to waiting");
        assertEquals(SessionLoop.READERS, channel.waiting.get(), "readers once the burst is over");
    }

    @Test
    void endingTheSessionEndsParkedThreadsToo() throws Exception {
        loop = new SessionLoop(channel, "test-loop", 64, "test");
        loop.start(8);
        for (int i = 0; i < 8; i++) {
            serveAlone(() -> { });
        }
        assertEquals(8 - SessionLoop.READERS, loop.parked());
        channel.exit();
        CompletableFuture.runAsync(() -> {
            try {
                loop.awaitEnd();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }).get(DEADLINE_MS, TimeUnit.MILLISECONDS);
        assertTrue(loop.ended());
    }

    /** Submits one request once every thread is back to waiting (a caller slower than the loop), and waits for it. */
    private void serveAlone(Runnable body) throws InterruptedException {
        waitUntil(() -> channel.waiting.get() + loop.parked() == loop.threads(), "the loop idle");
        CountDownLatch done = new CountDownLatch(1);
        channel.submit(() -> {
            body.run();
            done.countDown();
        });
        assertTrue(done.await(DEADLINE_MS, TimeUnit.MILLISECONDS), "a request was served");
    }

    private static void waitUntil(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DEADLINE_MS);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for: " + what);
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Requests as a queue whose waiting readers are served in the order they started waiting. */
    private static final class QueueChannel implements SessionLoop.Channel {
        final LinkedBlockingQueue<Runnable> requests = new LinkedBlockingQueue<>();
        /** Threads inside {@code receive}. */
        final AtomicInteger waiting = new AtomicInteger();
        volatile boolean exited;

        void submit(Runnable request) {
            requests.add(request);
        }

        @Override
        public SessionLoop.Reader reader() {
            return new SessionLoop.Reader() {
                private Runnable current;

                @Override
                public int receive() {
                    waiting.incrementAndGet();
                    try {
                        current = requests.take();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return -4;
                    } finally {
                        waiting.decrementAndGet();
                    }
                    return current == END ? 0 : 1;
                }

                @Override
                public void process() {
                    current.run();
                }
            };
        }

        @Override
        public boolean exited() {
            return exited;
        }

        @Override
        public void exit() {
            exited = true;
            for (int i = 0; i < 256; i++) {
                requests.add(END);
            }
        }
    }
}
