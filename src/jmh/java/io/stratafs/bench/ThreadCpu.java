package io.stratafs.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * The benchmark thread's own CPU per file over an iteration: on a shared machine the time per file
 * is noisy, while the thread's CPU is barely moved by load, so the benchmarks print it to compare.
 */
final class ThreadCpu {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private long startNanos;

    /** Starts counting at the start of an iteration. */
    void start() {
        startNanos = THREADS.getCurrentThreadCpuTime();
    }

    /** Prints the CPU per file since {@link #start}, for {@code files} files. */
    void print(long files) {
        long cpu = THREADS.getCurrentThreadCpuTime() - startNanos;
        System.out.printf("  cpu %.1f µs/file (%d files)%n", files == 0 ? 0.0 : cpu / 1000.0 / files, files);
    }
}
