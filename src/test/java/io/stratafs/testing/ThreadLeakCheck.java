package io.stratafs.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class that leaves one of our threads running: a cache, a committer, an uploader or a
 * sync daemon that was started and never closed. Such a thread keeps its owner reachable (a block
 * cache with its RAM tier, an LMDB environment), and in one surefire JVM the leaks of earlier classes
 * add up until a later, innocent class runs out of the 512 MiB heap.
 *
 * <p>Registered for every unit test through the service loader (surefire turns on JUnit's extension
 * autodetection). A thread told to stop may still be finishing, so each one is joined for up to
 * {@link #STOP_WAIT_S} seconds before it counts as leaked: a wait for the event, not a sleep.
 */
public final class ThreadLeakCheck implements BeforeAllCallback, AfterAllCallback {
    static final long STOP_WAIT_S = 10;
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(ThreadLeakCheck.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getStore(NS).put("before", Set.copyOf(Thread.getAllStackTraces().keySet()));
    }

    @Override
    public void afterAll(ExtensionContext context) throws InterruptedException {
        @SuppressWarnings("unchecked")
        Set<Thread> before = context.getStore(NS).get("before", Set.class);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STOP_WAIT_S);
        List<Thread> leaked = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (before.contains(t) || !ours(t.getName())) {
                continue;
            }
            t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            if (t.isAlive()) {
                leaked.add(t);
            }
        }
        if (!leaked.isEmpty()) {
            throw new AssertionError(context.getDisplayName() + " left " + leaked.size() + " thread(s) running (close what the test opens): "
                    + leaked.stream().map(Thread::getName).sorted().collect(Collectors.joining(", ")));
        }
    }

    /** Threads StrataFS names, and the executors a test makes with Executors' default factory. */
    static boolean ours(String name) {
        return name.startsWith("stratafs-") || name.startsWith("lmdb-") || name.startsWith("s3-stall-watchdog")
                || name.startsWith("warmup-") || name.startsWith("pool-");
    }
}
