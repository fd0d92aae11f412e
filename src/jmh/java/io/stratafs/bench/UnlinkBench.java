package io.stratafs.bench;

import io.stratafs.vfs.FsException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
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
 * What a FUSE thread pays for each file {@code rm -rf} removes: the VFS's unlink of a 4 KiB file
 * {@code depth} directories below the root, with the site's log off and on (the difference is the
 * site log's cost per removal). Each iteration makes {@value #FILES} files in a fresh volume (not
 * measured) and removes them all (measured). Prints the benchmark thread's own CPU per removed file
 * ({@code cpu µs/file}), which load on a shared machine barely moves: compare that.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, batchSize = UnlinkBench.FILES)
@Measurement(iterations = 5, batchSize = UnlinkBench.FILES)
@Fork(value = 1, jvmArgsPrepend = {"--add-opens", "java.base/java.nio=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
        "-Xmx512m"})
public class UnlinkBench {
    static final int FILES = 5_000;

    @Param({"false", "true"})
    public boolean siteLog;

    @Param({"1", "4"})
    public int depth;

    private BenchVolume volume;
    private String dir;
    private long n;
    private final ThreadCpu cpu = new ThreadCpu();

    @Setup(Level.Iteration)
    public void makeFiles() throws FsException {
        volume = new BenchVolume(64L << 20, siteLog);
        StringBuilder path = new StringBuilder();
        for (int d = 0; d < depth; d++) {
            path.append("/d").append(d);
            volume.vfs.mkdir(path.toString(), 0755, BenchVolume.USER);
        }
        dir = path.toString();
        byte[] data = new byte[4096];
        for (int i = 0; i < FILES; i++) {
            data[0] = (byte) i;
            data[1] = (byte) (i >>> 8);
            long fh = volume.vfs.create(dir + "/f" + i, 0644, BenchVolume.CREATE_TRUNCATE, BenchVolume.USER);
            volume.vfs.write(fh, 0, data, data.length);
            volume.vfs.release(fh);
        }
        n = 0;
        cpu.start();
    }

    @TearDown(Level.Iteration)
    public void endIteration() {
        cpu.print(n);
        volume.close();
    }

    @Benchmark
    public void unlink() throws FsException {
        volume.vfs.unlink(dir + "/f" + n++);
    }
}
