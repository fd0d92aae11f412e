package io.stratafs.writeback;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.cache.BlockCache;
import io.stratafs.meta.LmdbKv;
import io.stratafs.store.ForwardingStore;
import io.stratafs.store.MemoryStore;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import io.stratafs.store.StoreUnavailableException;
import io.stratafs.vfs.Caller;
import io.stratafs.vfs.Errno;
import io.stratafs.vfs.FsException;
import io.stratafs.vfs.FsStats;
import io.stratafs.vfs.Vfs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link SyncState} and the {@code user.stratafs.synced} attribute over a target that can be taken down. */
class SyncStateTest {
    private static final int BLOCK = 64 << 10;
    private static final int O_RDWR = 2;

    @TempDir
    Path dir;

    private final MemoryStore always = new MemoryStore();
    private final Flaky flaky = new Flaky(new MemoryStore());
    private LmdbKv kv;
    private BlockCache cache;
    private Vfs vfs;
    private WriteBack writeBack;
    private SyncState sync;

    /** A target whose writes fail while it is down. */
    static final class Flaky extends ForwardingStore {
        volatile boolean down;

        Flaky(ObjectStore inner) {
            super(inner);
        }

        @Override
        public String describe() {
            return "mem://flaky";
        }

        private void refuse() throws StoreException {
            if (down) {
                throw new StoreUnavailableException("the test took this target down", null);
            }
        }

        @Override
        public void put(String key, byte[] data) throws StoreException {
            refuse();
            super.put(key, data);
        }

        @Override
        public void create(String key, byte[] data) throws StoreException {
            refuse();
            super.create(key, data);
        }

        @Override
        public void putFile(String key, Path file) throws StoreException {
            refuse();
            super.putFile(key, file);
        }
    }

    @BeforeEach
    void open() {
        kv = new LmdbKv(dir.resolve("cache"), 256L << 20);
        cache = new BlockCache(kv, List.of(always, flaky), 64L << 20, 0);
        vfs = new Vfs(kv, cache, BLOCK, io.stratafs.vfs.Clock.SYSTEM, () -> new FsStats(1, 1, 0));
        vfs.initRoot(Caller.ROOT);
        writeBack = new WriteBack(kv, cache, "main", 2, dir);
        sync = new SyncState(kv, cache, writeBack);
        vfs.answerSynced((chain, uncommitted) -> sync.file(chain, uncommitted).describe());
        writeBack.start();
    }

    @AfterEach
    void close() {
        writeBack.close();
        vfs.close();
        cache.close();
        kv.close();
    }

    private String synced(String path) throws FsException {
        return new String(vfs.getxattr(path, Vfs.SYNCED_XATTR), StandardCharsets.UTF_8);
    }

    private void write(String path, int bytes) throws FsException {
        byte[] data = new byte[bytes];
        new Random(bytes).nextBytes(data);
        long fh = vfs.create(path, 0644, O_RDWR, Caller.ROOT);
        vfs.write(fh, 0, data, data.length);
        vfs.release(fh);
    }

    private void awaitSynced(String path) throws Exception {
        long deadline = System.currentTimeMillis() + 20_000;
        while (!synced(path).equals("yes")) {
            assertTrue(System.currentTimeMillis() < deadline, path + " never became synced: " + synced(path));
            writeBack.wake();
            Thread.sleep(20);
        }
    }

    @Test
    void aNewFileIsPendingForTheTargetThatIsDownAndSyncedOnceItReturns() throws Exception {
        flaky.down = true;
        write("/f", 3 * BLOCK + 100);
        String state = synced("/f");
        long deadline = System.currentTimeMillis() + 20_000;
        while (state.contains(always.describe())) {
            assertTrue(System.currentTimeMillis() < deadline, "the target that is up never got the file: " + state);
            writeBack.wake();
            Thread.sleep(20);
            state = synced("/f");
        }
        assertTrue(state.startsWith("no: 4 blocks (192.1 KiB), "), state);
        assertTrue(state.contains("pending for target mem://flaky"), state);
        assertTrue(state.matches(".*, [0-9]+ journal entr(y|ies) pending for target mem://flaky"), state);
        flaky.down = false;
        awaitSynced("/f");
    }

    @Test
    void aSiblingsCreationLeavesAFileSyncedButItsDirectoryAndNewAncestorsAreNot() throws Exception {
        vfs.mkdir("/d", 0755, Caller.ROOT);
        write("/d/x", 1000);
        awaitSynced("/d/x");
        flaky.down = true;
        write("/d/y", 1000);
        assertEquals("yes", synced("/d/x"), "a sibling's creation is not a change of x");
        assertTrue(synced("/d").startsWith("no: "), "the directory's entries changed: " + synced("/d"));
        vfs.mkdir("/e", 0755, Caller.ROOT);
        vfs.rename("/d/x", "/e/x");
        String moved = synced("/e/x");
        assertTrue(moved.startsWith("no: ") && moved.contains("journal entr") && !moved.contains("block"),
                "a rename is a name change, not new content: " + moved);
        flaky.down = false;
        awaitSynced("/e/x");
        awaitSynced("/d/y");
    }

    @Test
    void dataInAnOpenHandleCountsAsNotCommitted() throws Exception {
        long fh = vfs.create("/open", 0644, O_RDWR, Caller.ROOT);
        try {
            vfs.write(fh, 0, new byte[1000], 1000);
            String state = synced("/open");
            assertTrue(state.contains("1000 B not yet committed"), state);
        } finally {
            vfs.release(fh);
        }
        awaitSynced("/open");
    }

    @Test
    void theAttributeIsNotListedAndCannotBeSetOrRemoved() throws Exception {
        write("/f", 10);
        assertFalse(vfs.listxattr("/f").contains(Vfs.SYNCED_XATTR));
        FsException set = assertThrows(FsException.class,
                () -> vfs.setxattr("/f", Vfs.SYNCED_XATTR, "yes".getBytes(StandardCharsets.UTF_8), 0, Caller.ROOT));
        assertEquals(Errno.EPERM, set.errno());
        FsException remove = assertThrows(FsException.class, () -> vfs.removexattr("/f", Vfs.SYNCED_XATTR));
        assertEquals(Errno.EPERM, remove.errno());
    }

    @Test
    void aTreeCountsItsPendingFilesAndBytes() throws Exception {
        vfs.mkdir("/t", 0755, Caller.ROOT);
        write("/t/old", 500);
        awaitSynced("/t/old");
        flaky.down = true;
        vfs.mkdir("/t/sub", 0755, Caller.ROOT);
        write("/t/sub/a", 2 * BLOCK);
        write("/t/b", 700);
        long[] chain = vfs.resolveChain("/t");
        SyncState.TreeSync tree = sync.tree(chain, vfs::uncommittedBytes, 100);
        assertEquals(3, tree.files());
        assertEquals(2, tree.filesPending());
        assertEquals(2, tree.directories());
        assertEquals(2, tree.directoriesPending());
        assertEquals(2L * BLOCK + 700, tree.bytesPending());
        assertTrue(tree.pending().containsKey("/sub/a") && tree.pending().containsKey("/b") && tree.pending().containsKey(""),
                tree.pending().toString());
        assertFalse(tree.pending().containsKey("/old"));
        assertEquals(1, sync.tree(chain, vfs::uncommittedBytes, 1).pending().size());
        assertTrue(sync.tree(chain, vfs::uncommittedBytes, 1).truncated());
        flaky.down = false;
        awaitSynced("/t/sub/a");
        awaitSynced("/t/b");
        awaitSynced("/t");
        assertTrue(sync.tree(chain, vfs::uncommittedBytes, 100).synced());
    }
}
