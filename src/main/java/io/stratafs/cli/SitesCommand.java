package io.stratafs.cli;

import io.stratafs.store.ObjectStore;
import io.stratafs.sync.SiteRecord;
import io.stratafs.sync.SiteRegistry;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code stratafs sites}: the sites of a volume as one site's storage and its reachable peers know
 * them, after copying into that storage the records it lacked (what a site's daemon does by itself).
 */
@Command(name = "sites", mixinStandardHelpOptions = true, description = "List the sites of the volume in STORAGE, and copy into STORAGE "
        + "the site records that reachable peers know and it lacks.")
final class SitesCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "STORAGE")
    String storage;

    @picocli.CommandLine.Mixin
    StorageArgs storageArgs;

    @Option(names = "--site", description = "The site whose storage this is (default: the one its volume record names).")
    String site;

    @Override
    public Integer call() throws Exception {
        List<ObjectStore> targets = storageArgs.open(storage);
        SiteRegistry.View view;
        String self;
        try {
            Volume.Probe probe = Volume.probe(targets, storage);
            self = site != null ? site : probe.record().site();
            view = new SiteRegistry(probe.record().uuid(), self, targets, SiteRegistry.peerStores(storageArgs.options())).refresh();
        } finally {
            targets.forEach(ObjectStore::close);
        }
        for (SiteRecord r : view.sites().values()) {
            String state = r.name().equals(self) ? "this site" : view.unreachable().containsKey(r.name()) ? "unreachable" : "reachable";
            System.out.println(r.describe() + "  (" + state + ")");
        }
        if (!view.copied().isEmpty()) {
            System.out.println("copied into " + storage + ": " + String.join(", ", view.copied()));
        }
        for (Map.Entry<String, String> e : view.unreachable().entrySet()) {
            System.out.println("site " + e.getKey() + " did not answer: " + e.getValue());
        }
        for (String problem : view.problems()) {
            System.err.println("stratafs: " + problem);
        }
        return view.problems().isEmpty() ? 0 : 1;
    }
}
