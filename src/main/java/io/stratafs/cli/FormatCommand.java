package io.stratafs.cli;

import io.stratafs.config.Sizes;
import io.stratafs.config.VolumeRecord;
import io.stratafs.store.LocalDirStore;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreFactory;
import io.stratafs.store.StoreOptions;
import io.stratafs.sync.SiteJoin;
import io.stratafs.sync.SiteRecord;
import io.stratafs.sync.SiteRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code stratafs format}: writes a new volume record and the first site's record, or joins a new site to a volume. */
@Command(name = "format", mixinStandardHelpOptions = true, description = "Create a new volume in STORAGE (a directory, file:///path or s3://bucket[/prefix]; several joined by ','), "
        + "or, with --join, add a site with its own STORAGE to the volume of an existing site.")
final class FormatCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "STORAGE")
    String storage;

    @picocli.CommandLine.Mixin
    StorageArgs storageArgs;

    @Option(names = "--block-size", defaultValue = "4M", description = "Block size, a power of two from 64K to 64M (default ${DEFAULT-VALUE}).")
    String blockSize;

    @Option(names = "--name", description = "Volume name (default: stratafs).", defaultValue = "stratafs")
    String name;

    @Option(names = "--site", description = "Name of the site whose storage this is (default: main).", defaultValue = "main")
    String site;

    @Option(names = "--join", paramLabel = "PEER_STORAGE", description = "Add this site to the volume of the site whose storage is PEER_STORAGE, "
            + "reached with the --join-* options if any is given, else with the S3 options of STORAGE.")
    String join;

    @Option(names = "--join-endpoint", paramLabel = "URL", description = "S3 endpoint of PEER_STORAGE.")
    String joinEndpoint;

    @Option(names = "--join-region", paramLabel = "R", description = "S3 region of PEER_STORAGE.")
    String joinRegion;

    @Option(names = "--join-path-style", description = "Path-style addressing for PEER_STORAGE.")
    boolean joinPathStyle;

    @Option(names = "--join-profile", paramLabel = "NAME", description = "AWS profile for PEER_STORAGE.")
    String joinProfile;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (join != null) {
            return join();
        }
        for (String joinOnly : List.of("--join-endpoint", "--join-region", "--join-path-style", "--join-profile")) {
            if (given(joinOnly)) {
                throw new IllegalArgumentException(joinOnly + " only goes with --join PEER_STORAGE");
            }
        }
        long bs = Sizes.parse(blockSize);
        if (bs > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("block size " + blockSize + " is too large (at most 64M)");
        }
        VolumeRecord record = VolumeRecord.create(name, (int) bs, site);
        StoreOptions reach = storageArgs.options();
        List<ObjectStore> targets = storageArgs.open(storage);
        try {
            for (ObjectStore t : targets) {
                if (t instanceof LocalDirStore local && !Files.exists(local.root())) {
                    Files.createDirectories(local.root());
                }
                t.check();
                if (!t.exists(ObjectKeys.VOLUME)) {
                    SiteRegistry.requireNoRecords(t);
                }
            }
            Volume.write(targets, record);
            SiteRecord first = SiteRecord.of(site, record.uuid(), targets, reach);
            for (ObjectStore t : targets) {
                SiteRegistry.create(t, first);
            }
        } finally {
            targets.forEach(ObjectStore::close);
        }
        System.out.println("formatted volume \"" + name + "\" (" + record.uuid() + ", block size " + Sizes.format(bs)
                + ", site " + site + ") in " + storage);
        return 0;
    }

    private boolean given(String option) {
        return spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    private int join() throws Exception {
        for (String fromVolume : List.of("--name", "--block-size")) {
            if (given(fromVolume)) {
                throw new IllegalArgumentException(fromVolume + " comes from the volume being joined; leave it out with --join");
            }
        }
        if (!given("--site")) {
            throw new IllegalArgumentException("--join needs --site NAME, the name of the new site");
        }
        StoreOptions reach = storageArgs.options();
        boolean ownJoinOptions = joinEndpoint != null || joinRegion != null || joinPathStyle || joinProfile != null;
        StoreOptions peerReach = ownJoinOptions
                ? StoreOptions.builder().endpoint(joinEndpoint).region(joinRegion).pathStyle(joinPathStyle).profile(joinProfile)
                        .stallTimeout(reach.stallTimeout).build()
                : reach;
        List<Path> created = new ArrayList<>();
        List<ObjectStore> peer = StoreFactory.open(join, peerReach);
        List<ObjectStore> targets = new ArrayList<>();
        SiteJoin.Result result;
        try {
            targets.addAll(storageArgs.open(storage));
            for (ObjectStore t : targets) {
                if (t instanceof LocalDirStore local && !Files.exists(local.root())) {
                    created.add(Files.createDirectories(local.root()));
                }
            }
            result = SiteJoin.join(site, targets, reach, peer, peerReach, SiteRegistry.peerStores(reach));
        } catch (Exception e) {
            removeIfEmpty(created, e);
            throw e;
        } finally {
            peer.forEach(ObjectStore::close);
            targets.forEach(ObjectStore::close);
        }
        for (String problem : result.problems()) {
            System.err.println("stratafs: warning: " + problem);
        }
        System.out.println("joined volume \"" + result.volume().name() + "\" (" + result.volume().uuid() + ") as site " + site + " in "
                + storage + "; registered at " + String.join(", ", result.registeredAt()));
        for (Map.Entry<String, String> e : result.unreachable().entrySet()) {
            System.out.println("site " + e.getKey() + " did not answer; it learns of " + site + " from any peer it reaches: " + e.getValue());
        }
        return 0;
    }

    /** A refused join leaves no trace: a storage directory it made for nothing goes again. */
    private static void removeIfEmpty(List<Path> created, Exception failure) {
        for (Path dir : created) {
            try {
                Files.deleteIfExists(dir);
            } catch (IOException e) {
                failure.addSuppressed(e);
            }
        }
    }
}
