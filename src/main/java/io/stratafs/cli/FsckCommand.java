package io.stratafs.cli;

import io.stratafs.meta.LmdbKv;
import io.stratafs.meta.MetaException;
import io.stratafs.meta.Table;
import io.stratafs.ops.Fsck;
import io.stratafs.ops.Progress;
import io.stratafs.ops.VolumeTargets;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code stratafs fsck}: checks (and with --repair mends) a volume's storage targets. */
@Command(name = "fsck", mixinStandardHelpOptions = true,
        description = {"Check that every block a file references is present and intact in every target, that every inode is "
                + "reachable, and that journal and checkpoints agree. Exit status: 0 clean (or every problem repaired), "
                + "1 problems remain, 2 could not check."})
final class FsckCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "STORAGE", description = "The volume's targets, joined by ',' or given one after another.")
    List<String> storages;

    @picocli.CommandLine.Mixin
    StorageArgs storageArgs;

    @Option(names = "--repair", description = "Put a missing or corrupt block back from a good copy (another target, trash/, --cache-dir).")
    boolean repair;

    @Option(names = "--cache-dir", paramLabel = "DIR", description = "A mount's cache directory to take good copies of blocks from.")
    Path cacheDir;

    @Override
    public Integer call() {
        if (cacheDir != null && !Files.isRegularFile(cacheDir.resolve("data.mdb"))) {
            System.err.println("stratafs: --cache-dir " + cacheDir + " holds no StrataFS cache (no data.mdb)");
            return 2;
        }
        List<ObjectStore> targets = new ArrayList<>();
        LmdbKv cache = null;
        try {
            for (String s : storages) {
                targets.addAll(storageArgs.open(s));
            }
            VolumeTargets volume = VolumeTargets.open(targets);
            if (cacheDir != null) {
                cache = new LmdbKv(cacheDir, Files.size(cacheDir.resolve("data.mdb")) + (1L << 30));
            }
            LmdbKv local = cache;
            Progress progress = ProgressBar.forConsole();
            Fsck.Result r;
            try {
                r = new Fsck(volume, repair, local == null ? null : hash -> local.read(txn -> txn.get(Table.CACHE_DATA, hash)),
                        progress).run();
            } finally {
                ProgressBar.finish(progress);
            }
            for (String p : r.repaired()) {
                System.out.println("repaired: " + p);
            }
            for (String p : r.unrepaired()) {
                System.out.println((repair ? "not repaired: " : "problem: ") + p);
            }
            System.out.println(summary(r, repair));
            return r.exitCode();
        } catch (MetaException | IOException | IllegalArgumentException e) {
            System.err.println("stratafs: fsck could not check: " + Main.oneLine(e));
            return 2;
        } finally {
            if (cache != null) {
                cache.close();
            }
            targets.forEach(ObjectStore::close);
        }
    }

    static String summary(Fsck.Result r, boolean repair) {
        String head = "fsck: " + r.blocksChecked() + " block cop" + (r.blocksChecked() == 1 ? "y" : "ies") + " checked, ";
        if (r.problems().isEmpty()) {
            return head + "clean";
        }
        String found = r.problems().size() + " problem(s) found";
        if (r.unrepaired().isEmpty()) {
            return head + found + ", all repaired";
        }
        return head + found + (repair ? ", " + r.repaired().size() + " repaired, " + r.unrepaired().size() + " not repaired"
                : " (run with --repair to put back missing or corrupt blocks)");
    }
}
