package io.stratafs.bench;

import io.stratafs.cache.BlockUnavailableException;
import io.stratafs.cache.Sha256;
import io.stratafs.meta.BlockRef;
import io.stratafs.metrics.VolumeMetrics.ReadTier;
import io.stratafs.store.ObjectKeys;
import java.util.Random;
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
 * {@code BlockCache.get} of one 4 MiB block (the default block size), warm in the tier named by
 * {@code tier}: {@code ram} is the Caffeine tier (a hit hands back the cached array), {@code lmdb}
 * is the local LMDB tier under a RAM tier too small to keep the block, so every call copies it out
 * of the map and checks its CRC32C. {@link #read128k} is what a warm sequential reader meets: the
 * block read as 32 requests of 128 KiB through {@code BlockCache.read}, each piece copied straight
 * out of the tier (from the LMDB map once the block's CRC32C was checked). {@link #sha256} and
 * {@link #crc32c} alone are the two checks' costs: SHA-256 for blocks from targets, CRC32C for
 * blocks read back from LMDB.
 *
 * <p>The block reaches LMDB as a read from storage leaves it ({@code BlockCache.warm}: clean, not
 * in RAM); then it is deleted from the storage target, so no call can be served from there, and
 * {@link Cached#open} checks through the volume's metrics that the tier named is the one that answers.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = {"--add-opens", "java.base/java.nio=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
        "-Xmx512m"})
public class BlockReadBench {

    /** The block's bytes, apart from the volume so that {@link #sha256} runs once, not once per tier. */
    @State(Scope.Benchmark)
    public static class Block {
        final byte[] bytes = new byte[BenchVolume.BLOCK_SIZE];
        final BlockRef ref;

        public Block() {
            new Random(4).nextBytes(bytes);
            ref = new BlockRef(Sha256.of(bytes), bytes.length);
        }
    }

    /** A volume holding the block warm in {@link #tier}. */
    @State(Scope.Benchmark)
    public static class Cached {
        @Param({"ram", "lmdb"})
        public String tier;

        BenchVolume volume;

        @Setup
        public void open(Block block) throws BlockUnavailableException {
            boolean ram = switch (tier) {
                case "ram" -> true;
                case "lmdb" -> false;
                default -> throw new IllegalArgumentException("tier must be ram or lmdb, got " + tier);
            };
            volume = new BenchVolume(ram ? 64L << 20 : 0, false);
            String key = ObjectKeys.block(block.ref.hex());
            volume.target.put(key, block.bytes);
            if (volume.cache.warm(block.ref) != block.bytes.length) {
                throw new IllegalStateException("the block was not fetched into the LMDB tier");
            }
            volume.target.delete(key);
            volume.cache.get(block.ref);
            ReadTier expected = ram ? ReadTier.RAM : ReadTier.LOCAL;
            long before = volume.metrics.cacheReads(expected);
            volume.cache.get(block.ref);
            if (volume.metrics.cacheReads(expected) != before + 1) {
                throw new IllegalStateException("a warm read of the block was not served by the " + tier + " tier");
            }
        }

        @TearDown
        public void close() {
            volume.close();
        }
    }

    @Benchmark
    public byte[] get(Cached cached, Block block) throws BlockUnavailableException {
        return cached.volume.cache.get(block.ref);
    }

    @Benchmark
    public byte[] read128k(Cached cached, Block block, Request request) throws BlockUnavailableException {
        for (int from = 0; from < BenchVolume.BLOCK_SIZE; from += Request.SIZE) {
            cached.volume.cache.read(block.ref, from, request.dst, 0, Request.SIZE);
        }
        return request.dst;
    }

    /** A FUSE thread's request buffer. */
    @State(Scope.Thread)
    public static class Request {
        static final int SIZE = 128 << 10;
        final byte[] dst = new byte[SIZE];
    }

    @Benchmark
    public byte[] sha256(Block block) {
        return Sha256.of(block.bytes);
    }

    @Benchmark
    public long crc32c(Block block) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(block.bytes);
        return crc.getValue();
    }
}
