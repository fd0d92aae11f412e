package io.stratafs.cli;

import io.stratafs.config.Sizes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileStore;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code stratafs bench}: runs {@link Benchmark} in a fresh subdirectory of any directory and prints the figures. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure sequential and small-file throughput in DIRECTORY (a StrataFS mount point, or any directory to compare with).")
final class BenchCommand implements Callable<Integer> {
    /** Room left beside the data a run writes, so a run never fills a filesystem to the last byte. */
    private static final long FREE_MARGIN = 64L << 20;
    /** What one small or tree file may take on disk at most (a 20 KB file in 4 KiB blocks, plus its inode). */
    private static final long PER_FILE_BYTES = 32L << 10;

    @Parameters(index = "0", paramLabel = "DIRECTORY")
    Path directory;

    @Option(names = "--size", defaultValue = "1G", description = "Size of the sequentially written and read file (default ${DEFAULT-VALUE}; 0 skips it).")
    String size;

    @Option(names = "--files", defaultValue = "5000", description = "Number of small files, and of files in the unpacked tree (default ${DEFAULT-VALUE}; 0 skips them).")
    int files;

    @Option(names = "--json", description = "Print one JSON object instead of the table.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        long sizeBytes = Sizes.parse(size);
        if (files < 0) {
            throw new IllegalArgumentException("--files must be 0 or more, got " + files);
        }
        Path dir = directory.toAbsolutePath().normalize();
        checkDirectory(dir);
        FileStore store = Files.getFileStore(dir);
        checkFreeSpace(dir, store, sizeBytes + (long) files * PER_FILE_BYTES);
        Path scratch = createScratch(dir);
        Benchmark bench = new Benchmark(scratch, sizeBytes, files, progress());
        CountDownLatch cleanedUp = new CountDownLatch(1);
        Thread onSignal = new Thread(() -> stopAndClean(bench, cleanedUp, scratch), "stratafs-bench-cleanup");
        Runtime.getRuntime().addShutdownHook(onSignal);
        List<Benchmark.Result> results;
        try {
            results = bench.run();
        } catch (IOException | UncheckedIOException e) {
            throw new IllegalStateException("bench failed in " + scratch + ": " + reason(e) + " (the scratch directory is removed)");
        } finally {
            clearProgressLine();
            removeQuietly(scratch);
            cleanedUp.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(onSignal);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C or SIGTERM: the hook is waiting for the latch just counted down
            }
        }
        System.out.println(json ? json(dir, store, sizeBytes, bench.pageCacheDropped(), results) : table(dir, store, results));
        return 0;
    }

    /**
     * Ctrl-C or SIGTERM: the workload stops at its next file, and the main thread removes the
     * scratch directory. Removing it from here while the workload still creates files could leave
     * some behind, so this only waits, and removes what is left if the main thread never got there.
     */
    private static void stopAndClean(Benchmark bench, CountDownLatch cleanedUp, Path scratch) {
        bench.cancel();
        try {
            cleanedUp.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        removeQuietly(scratch);
    }

    private static void checkDirectory(Path dir) {
        if (Mounts.isStale(dir)) {
            String fix = Mounts.STRATAFS_TYPE.equals(Mounts.typeAt(dir)) ? "stratafs umount " : "fusermount -u -z ";
            throw new IllegalStateException(dir + " is a FUSE mount whose process died (Transport endpoint is not connected); run: " + fix + dir);
        }
        if (!Files.exists(dir)) {
            throw new IllegalArgumentException(dir + " does not exist (bench runs in an existing directory, such as a mount point)");
        }
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(dir + " is not a directory");
        }
    }

    private static void checkFreeSpace(Path dir, FileStore store, long needed) throws IOException {
        long free = store.getUsableSpace();
        // a filesystem that reports no capacity at all (some FUSE filesystems do) cannot be checked
        if (store.getTotalSpace() > 0 && free < needed + FREE_MARGIN) {
            throw new IllegalArgumentException("not enough free space in " + dir + ": this run needs about " + human(needed + FREE_MARGIN)
                    + ", " + human(free) + " is free (lower --size or --files)");
        }
    }

    private static Path createScratch(Path dir) {
        try {
            return Files.createTempDirectory(dir, "stratafs-bench-");
        } catch (IOException e) {
            throw new IllegalStateException("cannot create a scratch directory in " + dir + ": " + reason(e));
        }
    }

    private static String reason(Exception e) {
        Throwable t = e instanceof UncheckedIOException u ? u.getCause() : e;
        if (t instanceof FileSystemException fse) {
            String why = fse.getReason() != null ? fse.getReason() : t.getClass().getSimpleName().replace("Exception", "");
            return (fse.getFile() != null ? fse.getFile() + ": " : "") + why;
        }
        return Main.oneLine(t);
    }

    private static void removeQuietly(Path scratch) {
        if (!Files.exists(scratch)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(scratch)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            System.err.println("stratafs: could not remove the scratch directory " + scratch + ": " + e.getMessage());
        }
    }

    /** A progress line on stderr, redrawn at most five times a second, only when a person watches a terminal. */
    private static Benchmark.Progress progress() {
        if (System.console() == null) {
            return (label, done, total) -> { };
        }
        long[] last = {0};
        return (label, done, total) -> {
            long now = System.nanoTime();
            if (now - last[0] < 200_000_000L && done < total) {
                return;
            }
            last[0] = now;
            String line = String.format(Locale.ROOT, "%s: %d%%", label, total > 0 ? done * 100 / total : 100);
            System.err.print("\r" + line + " ".repeat(Math.max(0, 79 - line.length())));
            System.err.flush();
        };
    }

    private static void clearProgressLine() {
        if (System.console() != null) {
            System.err.print("\r" + " ".repeat(79) + "\r");
            System.err.flush();
        }
    }

    static String table(Path dir, FileStore store, List<Benchmark.Result> results) {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "bench in %s (%s, %s)%n", dir, store.type(), store.name()));
        for (Benchmark.Result r : results) {
            out.append(String.format(Locale.ROOT, "%-64s %10s %s%n", r.label(), formatRate(r), r.unit()));
        }
        return out.toString().stripTrailing();
    }

    private static String formatRate(Benchmark.Result r) {
        return r.unit().equals("MiB/s") ? String.format(Locale.ROOT, "%.1f", r.rate()) : String.format(Locale.ROOT, "%.0f", r.rate());
    }

    private String json(Path dir, FileStore store, long sizeBytes, boolean pageCacheDropped, List<Benchmark.Result> results) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("directory", dir.toString());
        o.put("filesystem", store.type());
        o.put("source", store.name());
        o.put("sizeBytes", sizeBytes);
        o.put("files", files);
        o.put("pageCacheDropped", pageCacheDropped);
        List<Object> list = new ArrayList<>();
        for (Benchmark.Result r : results) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("workload", r.workload());
            m.put("description", r.label());
            m.put("value", Math.round(r.rate() * 10) / 10.0);
            m.put("unit", r.unit());
            m.put("seconds", Math.round(r.seconds() * 1000) / 1000.0);
            list.add(m);
        }
        o.put("results", list);
        return Json.write(o);
    }

    private static String human(long bytes) {
        if (bytes >= 1L << 30) {
            return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
        }
        return String.format(Locale.ROOT, "%.0f MiB", bytes / (double) (1L << 20));
    }
}
