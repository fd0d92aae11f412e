package io.stratafs.cli;

import io.stratafs.config.Durations;
import io.stratafs.ops.Gc;
import io.stratafs.ops.Progress;
import io.stratafs.ops.VolumeTargets;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code stratafs gc}: deletes the objects of a volume that no file references any more. */
@Command(name = "gc", mixinStandardHelpOptions = true,
        description = {"Delete objects no file references: blocks, and journal segments and checkpoints superseded by a newer "
                + "checkpoint. Safe while the volume is mounted. Exit status: 0 done, 1 failed part way, 2 refused "
                + "(a target does not answer, STORAGE is not a volume, bad option)."})
final class GcCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "STORAGE", description = "The volume's storage: every target, joined by ','.")
    String storage;

    @picocli.CommandLine.Mixin
    StorageArgs storageArgs;

    @Option(names = "--dry-run", description = "Only print what would be deleted.")
    boolean dryRun;

    @Option(names = "--min-age", defaultValue = "1d", paramLabel = "AGE", description = "Leave objects written less than AGE ago "
            + "(30s, 10m, 12h, 1d; 0 only when no mount writes); a block goes to trash/ first and is deleted by a run AGE later "
            + "(default ${DEFAULT-VALUE}).")
    String minAge;

    @Override
    public Integer call() {
        long minAgeMillis;
        try {
            minAgeMillis = Durations.parseMillis(minAge, "--min-age");
        } catch (IllegalArgumentException e) {
            System.err.println("stratafs: " + e.getMessage());
            return 2;
        }
        List<ObjectStore> targets;
        VolumeTargets volume;
        try {
            targets = storageArgs.open(storage);
        } catch (StoreException | IllegalArgumentException e) {
            System.err.println("stratafs: gc refused: " + Main.oneLine(e));
            return 2;
        }
        try {
            try {
                volume = VolumeTargets.open(targets);
            } catch (StoreException e) {
                System.err.println("stratafs: gc refused: " + Main.oneLine(e) + "; every target must answer, or gc cannot know what is still referenced");
                return 2;
            }
            Progress progress = ProgressBar.forConsole();
            Gc.Result result;
            try {
                result = new Gc(volume, minAgeMillis, dryRun, System::currentTimeMillis, progress, (t, k) -> { }).run();
            } catch (StoreException e) {
                ProgressBar.finish(progress);
                System.err.println("stratafs: gc stopped: " + Main.oneLine(e));
                return 1;
            }
            ProgressBar.finish(progress);
            boolean several = targets.size() > 1;
            for (Gc.Action a : result.actions()) {
                System.out.println(a.verb() + " " + (several ? a.target() + ": " : "") + a.key() + " (" + a.bytes() + " bytes)");
            }
            System.out.println(summary(result, dryRun, minAge));
            return 0;
        } finally {
            targets.forEach(ObjectStore::close);
        }
    }

    static String summary(Gc.Result r, boolean dryRun, String minAge) {
        long deleted = r.actions().stream().filter(a -> a.verb().endsWith("delete") || a.verb().equals("deleted")).count();
        StringBuilder s = new StringBuilder("gc: ");
        s.append(dryRun ? "would delete " : "deleted ").append(deleted).append(deleted == 1 ? " object, " : " objects, ")
                .append(r.freedBytes()).append(" bytes ").append(dryRun ? "would be freed" : "freed");
        long toTrash = r.actions().stream().filter(a -> a.verb().contains("trash")).count();
        if (toTrash > 0) {
            s.append("; ").append(toTrash).append(dryRun ? " block(s) would move" : " block(s) moved")
                    .append(" to trash/");
            if (!minAge.trim().equals("0")) {
                s.append(", deleted by a gc run at least ").append(minAge).append(" later if still unreferenced");
            }
        }
        if (r.restored() > 0) {
            s.append("; ").append(r.restored()).append(" referenced block(s) restored from trash/");
        }
        return s.toString();
    }
}
