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
 * What a FUSE thread pays for each small file {@code cp} or {@code tar -x} makes: create, one 4 KiB
 * write of content no other file has, flush and release, in one directory that grows, with the
 * site's log off and on (the difference is the site log's cost per file). No uploader runs, so each
 * iteration starts a fresh volume (one would fill the dirty limit and wait).
 *
 * <p>On a shared machine the time per file is noisy; each measured iteration also prints the
 * benchmark thread's own CPU per file ({@code cpu µs/file}), which load barely moves: compare that.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = {"--add-opens", "java.base/java.nio=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
        "-Xmx512m"})
public class SmallFileCreateBench {

    @Param({"false", "true"})
    public boolean siteLog;

    private BenchVolume volume;
    private final byte[] data = new byte[4096];
    private long n;
    private long iterationFiles;
    private final ThreadCpu cpu = new ThreadCpu();

    /** A fresh volume per iteration: no uploader cleans the blocks, so one volume would reach the dirty limit and wait. */
    @Setup(Level.Iteration)
    public void startIteration() throws FsException {
        volume = new BenchVolume(64L << 20, siteLog);
        volume.vfs.mkdir("/dir", 0755, BenchVolume.USER);
        iterationFiles = n;
        cpu.start();
    }

    @TearDown(Level.Iteration)
    public void endIteration() {
        cpu.print(n - iterationFiles);
        volume.close();
    }

    @Benchmark
    public void createWriteClose() throws FsException {
        long i = n++;
        for (int b = 0; b < 8; b++) {
            data[b] = (byte) (i >>> (8 * b));
        }
        long fh = volume.vfs.create("/dir/f" + i, 0644, BenchVolume.CREATE_TRUNCATE, BenchVolume.USER);
        volume.vfs.write(fh, 0, data, data.length);
        volume.vfs.flush(fh);
        volume.vfs.release(fh);
    }
}
