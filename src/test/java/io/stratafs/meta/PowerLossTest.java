package io.stratafs.meta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A power loss, simulated: the disk keeps what was synced (LMDB as of its last commit, each
 * write-ahead file up to its last fdatasync) and, of what was not, any prefix, torn, with garbage or
 * a hole of zeros. After reopening, LMDB must open, the state must be the one after some prefix of
 * the writes that includes every write before the last {@link Kv#sync}, and journal numbers must
 * continue from that prefix without reuse.
 */
class PowerLossTest {
    private static final long MAP = 64L << 20;
    private static final int WRITES = 400;

    @TempDir
    Path tmp;

    /** Records what reached stable storage. */
    private static final class Disk implements DiskSeam {
        final Path lmdbDir;
        final Path lmdbImage;
        final Map<String, Long> walSynced = new ConcurrentHashMap<>();

        Disk(Path lmdbDir, Path lmdbImage) {
            this.lmdbDir = lmdbDir;
            this.lmdbImage = lmdbImage;
        }

        @Override
        public void walSynced(Path file, long length) {
            walSynced.merge(file.getFileName().toString(), length, Math::max);
        }

        @Override
        public void lmdbCommitted() {
            try {
                Files.copy(lmdbDir.resolve("data.mdb"), lmdbImage, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void aPowerLossKeepsAPrefixThatHoldsEverySyncedWrite(long seed) throws IOException {
        Random rnd = new Random(seed);
        Path dir = tmp.resolve("kv");
        Files.createDirectories(dir);
        Disk disk = new Disk(dir, tmp.resolve("data.mdb.synced"));
        // small groups: LMDB commits land between the writes, on the committer thread
        LmdbKv kv = new LmdbKv(dir, MAP, 2048 + rnd.nextInt(16384), 5 + rnd.nextInt(50), disk);
        List<TreeMap<Long, byte[]>> states = new ArrayList<>();
        TreeMap<Long, byte[]> state = new TreeMap<>();
        states.add(new TreeMap<>(state));
        int mustKeep = 0;
        try {
            for (int i = 1; i <= WRITES; i++) {
                long key = rnd.nextInt(60);
                byte[] value = new byte[1 + rnd.nextInt(rnd.nextInt(10) == 0 ? 9000 : 200)];
                rnd.nextBytes(value);
                long gone = rnd.nextInt(60);
                kv.writeVoid(txn -> {
                    txn.put(Table.INODE, Bytes.longKey(key), value);
                    txn.put(Table.CACHE_DATA, Bytes.longKey(key), value);
                    if (gone != key) {
                        txn.delete(Table.INODE, Bytes.longKey(gone));
                        txn.delete(Table.CACHE_DATA, Bytes.longKey(gone));
                    }
                });
                state.put(key, value);
                if (gone != key) {
                    state.remove(gone);
                }
                states.add(new TreeMap<>(state));
                if (rnd.nextInt(25) == 0) {
                    kv.sync();
                    mustKeep = i;
                }
                if (rnd.nextInt(100) == 0) {
                    kv.commitPending();
                }
            }
            Path crashed = tmp.resolve("after-power-loss");
            kv.quiesced(() -> powerCut(dir, disk, crashed, rnd));
            int kept = recoverAndCheck(crashed, states, mustKeep);
            assertTrue(kept >= mustKeep);
        } finally {
            kv.close();
        }
    }

    /** Builds the disk as a power cut could leave it. */
    private static void powerCut(Path dir, Disk disk, Path out, Random rnd) {
        try {
            Files.createDirectories(out.resolve("wal"));
            if (Files.exists(disk.lmdbImage)) {
                Files.copy(disk.lmdbImage, out.resolve("data.mdb"));
            }
            for (Path f : Wal.segments(dir.resolve("wal"))) {
                byte[] written = Files.readAllBytes(f);
                Long synced = disk.walSynced.get(f.getFileName().toString());
                if (synced == null && rnd.nextBoolean()) {
                    continue; // created after the last directory sync: the file may be gone
                }
                int keep = synced == null ? 0 : (int) (long) synced;
                byte[] survived = Arrays.copyOf(written, keep + rnd.nextInt(written.length - keep + 1));
                switch (rnd.nextInt(4)) {
                    case 0 -> survived = Arrays.copyOf(written, keep); // nothing unsynced reached the disk
                    case 1 -> { // garbage at the end
                        survived = Arrays.copyOf(survived, survived.length + 1 + rnd.nextInt(100));
                        for (int i = survived.length - 1; i >= 0 && i >= keep && rnd.nextInt(50) != 0; i--) {
                            survived[i] = (byte) rnd.nextInt();
                        }
                    }
                    case 2 -> { // a hole of zeros in the unsynced part, the rest intact
                        survived = written.clone();
                        if (survived.length > keep) {
                            int from = keep + rnd.nextInt(survived.length - keep);
                            Arrays.fill(survived, from, Math.min(survived.length, from + 1 + rnd.nextInt(4096)), (byte) 0);
                        }
                    }
                    default -> { } // a torn prefix of the unsynced part
                }
                Files.write(out.resolve("wal").resolve(f.getFileName()), survived);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reopens and checks the state is one of the prefixes from {@code mustKeep} on; returns its length. */
    private static int recoverAndCheck(Path crashed, List<TreeMap<Long, byte[]>> states, int mustKeep) {
        try (LmdbKv kv = new LmdbKv(crashed, MAP)) {
            Map<Long, byte[]> inode = new HashMap<>();
            Map<Long, byte[]> data = new HashMap<>();
            kv.read(txn -> {
                txn.scan(Table.INODE, new byte[0], (k, v) -> {
                    inode.put(k.getLong(k.position()), Bytes.toArray(v));
                    return true;
                });
                txn.scan(Table.CACHE_DATA, new byte[0], (k, v) -> {
                    data.put(k.getLong(k.position()), Bytes.toArray(v));
                    return true;
                });
                return null;
            });
            int prefix = (int) kv.lastJournalSeq();
            if (prefix < mustKeep || prefix >= states.size()) {
                fail("after the power loss the journal ends at " + prefix + "; writes up to " + mustKeep + " were synced");
            }
            TreeMap<Long, byte[]> expected = states.get(prefix);
            assertEquals(expected.keySet(), inode.keySet(), "namespace after the first " + prefix + " writes");
            assertEquals(expected.keySet(), data.keySet(), "blocks after the first " + prefix + " writes");
            for (Map.Entry<Long, byte[]> e : expected.entrySet()) {
                assertArrayEquals(e.getValue(), inode.get(e.getKey()));
                assertArrayEquals(e.getValue(), data.get(e.getKey()));
            }
            for (long seq = 1; seq <= prefix; seq++) {
                long s = seq;
                assertNotNull(kv.read(txn -> txn.get(Table.JOURNAL, Bytes.longKey(s))), "journal record " + seq);
            }
            kv.writeVoid(txn -> txn.put(Table.INODE, Bytes.longKey(999), new byte[] {1}));
            assertEquals(prefix + 1, kv.lastJournalSeq(), "journal numbering continues without reuse");
            boolean beyond = kv.read(txn -> txn.contains(Table.JOURNAL, Bytes.longKey(prefix + 2)));
            assertTrue(!beyond, "no journal record after the new one");
            return prefix;
        }
    }
}
