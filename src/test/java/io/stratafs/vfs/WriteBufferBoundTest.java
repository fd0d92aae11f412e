package io.stratafs.vfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.cache.BlockCache;
import io.stratafs.meta.LmdbKv;
import io.stratafs.store.MemoryStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Uncommitted writes live on the daemon's heap, so what all open files together hold is bounded,
 * not only what each one holds: a writer that appends in pieces that never end on a block boundary
 * hands each block on once it is full, and many files with partial blocks are committed before
 * their buffers outgrow the bound.
 */
class WriteBufferBoundTest {
    private static final Caller USER = new Caller(1000, 1000);
    private static final int BLOCK = 64 << 10;
    private static final int RW = Handle.O_RDWR;

    @TempDir
    Path dir;
    private LmdbKv kv;
    private BlockCache cache;
    private Vfs vfs;

    @BeforeEach
    void open() {
        kv = new LmdbKv(dir, 512L << 20);
        cache = new BlockCache(kv, List.of(new MemoryStore()), 256L << 20, 8L << 20);
        vfs = new Vfs(kv, cache, BLOCK, System::nanoTime, () -> new FsStats(1L << 40, 1L << 39, 0));
        vfs.initRoot(USER);
    }

    @AfterEach
    void close() {
        vfs.close();
        cache.close();
        kv.close();
    }

    @Test
    void appendsThatNeverEndOnABlockBoundaryHandOnFullBlocks() throws Exception {
        int files = 3;
        int piece = 100_001;
        long[] fhs = new long[files];
        byte[][] content = new byte[files][16 * BLOCK];
        Random random = new Random(5);
        for (int f = 0; f < files; f++) {
            random.nextBytes(content[f]);
            fhs[f] = vfs.create("/log" + f, 0644, RW, USER);
        }
        long most = 0;
        for (int at = 0; at < content[0].length; at += piece) {
            for (int f = 0; f < files; f++) {
                int n = Math.min(piece, content[f].length - at);
                vfs.write(fhs[f], at, Arrays.copyOfRange(content[f], at, at + n), n);
                most = Math.max(most, vfs.bufferedWriteBytes());
            }
        }
        assertTrue(most <= files * 2L * BLOCK, "appenders held " + most + " uncommitted bytes, more than two blocks per file");
        for (int f = 0; f < files; f++) {
            vfs.release(fhs[f]);
            assertArrayEquals(content[f], readAll("/log" + f), "content of /log" + f);
        }
    }

    @Test
    void partialBlocksInManyFilesStayWithinTheBoundOfAllOpenFiles() throws Exception {
        long bound = 256L << 10;
        vfs.setMaxBufferedWriteBytes(bound);
        int files = 50;
        int blocks = 10;
        int piece = 1024;
        List<Long> fhs = new ArrayList<>();
        for (int f = 0; f < files; f++) {
            fhs.add(vfs.create("/db" + f, 0644, RW, USER));
        }
        byte[] data = new byte[piece];
        Arrays.fill(data, (byte) 7);
        long most = 0;
        for (int b = 0; b < blocks; b++) {
            for (long fh : fhs) {
                vfs.write(fh, (long) b * BLOCK, data, piece);
                most = Math.max(most, vfs.bufferedWriteBytes());
            }
        }
        assertTrue(most <= bound + piece, "open files held " + most + " uncommitted bytes, over the bound of " + bound);
        for (int f = 0; f < files; f++) {
            vfs.release(fhs.get(f));
            byte[] got = readAll("/db" + f);
            assertTrue(got.length == (blocks - 1) * BLOCK + piece, "size of /db" + f + ": " + got.length);
            for (int b = 0; b < blocks; b++) {
                assertArrayEquals(data, Arrays.copyOfRange(got, b * BLOCK, b * BLOCK + piece), "block " + b + " of /db" + f);
            }
        }
    }

    private byte[] readAll(String path) throws FsException {
        long fh = vfs.open(path, 0);
        try {
            byte[] out = new byte[(int) vfs.getattr(path).size()];
            int done = 0;
            while (done < out.length) {
                byte[] buf = new byte[Math.min(1 << 20, out.length - done)];
                int n = vfs.read(fh, done, buf, buf.length);
                System.arraycopy(buf, 0, out, done, n);
                done += n;
            }
            return out;
        } finally {
            vfs.release(fh);
        }
    }
}
