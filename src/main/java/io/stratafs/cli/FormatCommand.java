package io.stratafs.cli;

import io.stratafs.config.Sizes;
import io.stratafs.config.VolumeRecord;
import io.stratafs.store.LocalDirStore;
import io.stratafs.store.ObjectStore;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code stratafs format}: writes a new volume record to every target. */
@Command(name = "format", mixinStandardHelpOptions = true, description = "Create a new volume in STORAGE (a directory, file:///path or s3://bucket[/prefix]; several joined by ',').")
final class FormatCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "STORAGE")
    String storage;

    @picocli.CommandLine.Mixin
    StorageArgs storageArgs;

    @Option(names = "--block-size", defaultValue = "4M", description = "Block size, a power of two from 64K to 64M (default ${DEFAULT-VALUE}).")
    String blockSize;

    @Option(names = "--name", description = "Volume name (default: stratafs).", defaultValue = "stratafs")
    String name;

    @Option(names = "--site", description = "Default site name of this volume (default: main).", defaultValue = "main")
    String site;

    @Override
    public Integer call() throws Exception {
        long bs = Sizes.parse(blockSize);
        if (bs > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("block size " + blockSize + " is too large (at most 64M)");
        }
        VolumeRecord record = VolumeRecord.create(name, (int) bs, site);
        List<ObjectStore> targets = storageArgs.open(storage);
        try {
            for (ObjectStore t : targets) {
                if (t instanceof LocalDirStore local && !Files.exists(local.root())) {
                    Files.createDirectories(local.root());
                }
                t.check();
            }
            Volume.write(targets, record);
        } finally {
            targets.forEach(ObjectStore::close);
        }
        System.out.println("formatted volume \"" + name + "\" (" + record.uuid() + ", block size " + Sizes.format(bs)
                + ", site " + site + ") in " + storage);
        return 0;
    }
}
