package io.stratafs.fuse;

import io.stratafs.fuse.lowlevel.LowLevelMount;
import io.stratafs.fuse.lowlevel.MemLowLevelFs;
import io.stratafs.fuse.lowlevel.MemTree;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Measures libfuse 2's path API (jnr-fuse on {@link FuseSession}, as StrataFS ran before it moved to the low-level API) against the
 * low-level binding, both over the same null-data {@link MemTree}: creates/s and warm stats/s of
 * 10,000 files, sequential write and read of a 1 GiB file in 128 KiB calls, each with attribute
 * caching off and on. Rounds interleave the variants so drift in the machine's load hits all alike;
 * prints every round and the median of three. A benchmark, not a test:
 * <pre>
 * mvn -o -B -q -DskipTests package dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp target/classes:target/test-classes:$(cat target/cp.txt) io.stratafs.fuse.FuseApiBench [rounds] [entry_timeout]
 * </pre>
 * With the default entry_timeout of 1 s (StrataFS's) a stat pass that outlasts it looks names up
 * again, so the stat figure mixes cached and uncached calls; a long entry_timeout (60) isolates the
 * cost of the attribute round trip itself.
 * Needs /dev/fuse and fusermount (root here); mounts under a fresh /tmp/stratafs-bench-fuseapi-* directory.
 */
public final class FuseApiBench {
    private static final int FILES = 10_000;
    private static final int CHUNK = 128 << 10;
    private static final long FILE_BYTES = 1L << 30;
    private static final List<String> COMMON = List.of("big_writes", "max_write=131072", "max_read=131072",
            "max_readahead=1048576");
    private static final String[] METRICS = {"create/s", "stat/s", "write MiB/s", "read MiB/s"};

    private FuseApiBench() {
    }

    private interface Mounted extends AutoCloseable {
        @Override
        void close() throws Exception;
    }

    public static void main(String[] argv) throws Exception {
        int rounds = argv.length > 0 ? Integer.parseInt(argv[0]) : 3;
        double entryTimeout = argv.length > 1 ? Double.parseDouble(argv[1]) : 1.0;
        Path dir = Files.createTempDirectory("stratafs-bench-fuseapi-");
        Path mnt = Files.createDirectory(dir.resolve("mnt"));
        Map<String, List<double[]>> results = new LinkedHashMap<>();
        try {
            System.out.printf(Locale.ROOT, "entry_timeout=%s; load average at start: %s%n", entryTimeout, loadAverage());
            for (int round = 1; round <= rounds; round++) {
                for (String variant : List.of("path attr_timeout=0", "path attr_timeout=1", "lowlevel attr_timeout=0",
                        "lowlevel attr_timeout=1")) {
                    double attr = variant.endsWith("=1") ? 1.0 : 0.0;
                    double[] r;
                    try (Mounted m = variant.startsWith("path") ? pathMount(mnt, attr, entryTimeout)
                            : lowLevelMount(mnt, attr, entryTimeout)) {
                        r = workload(mnt);
                    }
                    results.computeIfAbsent(variant, k -> new ArrayList<>()).add(r);
                    System.out.printf(Locale.ROOT, "round %d %-24s %s  (load %s)%n", round, variant, format(r), loadAverage());
                }
            }
            System.out.printf("load average at end: %s%nmedians of %d rounds:%n%-24s", loadAverage(), rounds, "");
            for (String metric : METRICS) {
                System.out.printf("%14s", metric);
            }
            System.out.println();
            for (Map.Entry<String, List<double[]>> e : results.entrySet()) {
                System.out.printf(Locale.ROOT, "%-24s", e.getKey());
                for (int i = 0; i < METRICS.length; i++) {
                    int k = i;
                    double[] v = e.getValue().stream().mapToDouble(a -> a[k]).sorted().toArray();
                    System.out.printf(Locale.ROOT, "%14.0f", v[v.length / 2]);
                }
                System.out.println();
            }
        } finally {
            if (Files.readString(Path.of("/proc/mounts")).contains(mnt.toString())) {
                new ProcessBuilder("fusermount", "-u", "-z", mnt.toString()).inheritIO().start().waitFor();
            }
            Files.delete(mnt);
            Files.delete(dir);
        }
    }

    private static Mounted pathMount(Path mnt, double attrTimeout, double entryTimeout) throws InterruptedException {
        MemPathFs fs = new MemPathFs(new MemTree(false));
        List<String> opts = new ArrayList<>(COMMON);
        opts.addAll(List.of("use_ino", "attr_timeout=" + attrTimeout, "entry_timeout=" + entryTimeout, "fsname=mempath"));
        CountDownLatch mounted = new CountDownLatch(1);
        Thread server = new Thread(() -> {
            try {
                fs.serve(mnt, List.of("-o", String.join(",", opts)), mounted::countDown);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "bench-path-mount");
        server.start();
        if (!mounted.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the path-API mount at " + mnt + " did not come up in 30 s");
        }
        return () -> {
            new ProcessBuilder("fusermount", "-u", mnt.toString()).inheritIO().start().waitFor();
            server.join();
        };
    }

    private static Mounted lowLevelMount(Path mnt, double attrTimeout, double entryTimeout) {
        List<String> opts = new ArrayList<>(COMMON);
        opts.add("fsname=memll");
        LowLevelMount m = LowLevelMount.mount(new MemLowLevelFs(new MemTree(false), attrTimeout, entryTimeout), mnt, opts, 16);
        return m::close;
    }

    /** create/s, warm stat/s, write MiB/s, read MiB/s on a fresh mount. */
    private static double[] workload(Path mnt) throws IOException {
        Path d = Files.createDirectory(mnt.resolve("d"));
        long t0 = System.nanoTime();
        for (int i = 0; i < FILES; i++) {
            FileChannel.open(d.resolve("f" + i), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
        }
        double create = FILES / seconds(t0);
        statAll(d);
        t0 = System.nanoTime();
        statAll(d);
        double stat = FILES / seconds(t0);
        Path big = mnt.resolve("big");
        ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK);
        t0 = System.nanoTime();
        try (FileChannel ch = FileChannel.open(big, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            for (long done = 0; done < FILE_BYTES; done += CHUNK) {
                buf.clear();
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
            }
        }
        double write = FILE_BYTES / 1048576.0 / seconds(t0);
        t0 = System.nanoTime();
        long read = 0;
        try (FileChannel ch = FileChannel.open(big, StandardOpenOption.READ)) {
            for (int n; (n = ch.read(buf.clear())) >= 0; ) {
                read += n;
            }
        }
        if (read != FILE_BYTES) {
            throw new IllegalStateException("read back " + read + " bytes of " + FILE_BYTES);
        }
        double readRate = FILE_BYTES / 1048576.0 / seconds(t0);
        return new double[] {create, stat, write, readRate};
    }

    private static void statAll(Path d) throws IOException {
        for (int i = 0; i < FILES; i++) {
            Files.readAttributes(d.resolve("f" + i), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        }
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static String format(double[] r) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < r.length; i++) {
            s.append(String.format(Locale.ROOT, "%s %.0f  ", METRICS[i], r[i]));
        }
        return s.toString().trim();
    }

    private static String loadAverage() throws IOException {
        String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
        return f[0] + " " + f[1] + " " + f[2];
    }
}
