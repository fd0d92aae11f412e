package io.stratafs.bench;

import io.stratafs.vfs.FsException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What {@code tar -x} pays after each file it unpacks: utimens (and chmod) of a file in a
 * subdirectory, with the site's log off and on. With the log on, each call is a SetAttr in the
 * replica, and SiteBridge records the file's entry from the operation and its node rather than
 * resolving the path in the replica a second time (the difference {@code siteLog=true} minus
 * {@code false} is the site log's cost per call). The files are made once; the calls rotate over them.
 *
 * <p>A benchmark's time here is dominated by LMDB's commit and noisy on a shared machine; compare
 * CPU per call as well (for example {@code -prof gc} for allocation, or thread CPU time).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = {"--add-opens", "java.base/java.nio=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
        "-Xmx512m"})
public class SiteLogAttributesBench {
    private static final int FILES = 256;
    private static final int O_RDWR = 02;
    private static final int O_CREAT = 0100;

    @Param({"false", "true"})
    public boolean siteLog;

    private BenchVolume volume;
    private String[] paths;
    private long n;

    @Setup
    public void open() throws FsException {
        volume = new BenchVolume(128L << 20, siteLog);
        volume.vfs.mkdir("/usr", 0755, BenchVolume.USER);
        volume.vfs.mkdir("/usr/share", 0755, BenchVolume.USER);
        paths = new String[FILES];
        for (int i = 0; i < FILES; i++) {
            paths[i] = "/usr/share/file" + i;
            volume.vfs.release(volume.vfs.create(paths[i], 0644, O_RDWR | O_CREAT, BenchVolume.USER));
        }
    }

    @TearDown
    public void close() {
        volume.close();
    }

    @Benchmark
    public void utimens() throws FsException {
        long i = n++;
        volume.vfs.utimens(paths[(int) (i % FILES)], 1_700_000_000L + i, 0, 1_700_000_000L + i, 0);
    }

    @Benchmark
    public void chmod() throws FsException {
        long i = n++;
        volume.vfs.chmod(paths[(int) (i % FILES)], (i & 1) == 0 ? 0600 : 0644);
    }
}
