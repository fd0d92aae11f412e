package io.stratafs.cli;

import io.stratafs.config.Sizes;
import io.stratafs.store.StoreOptions;
import java.util.List;
import picocli.CommandLine.Option;

/** The sync daemon's options, shared by {@code mount} and {@code sync}. */
final class SyncArgs {
    @Option(names = "--sync-bandwidth", paramLabel = "RATE", defaultValue = "0",
            description = "Most bytes per second the daemon copies from peers' storage into this site's (e.g. 20M; "
                    + "default ${DEFAULT-VALUE} = no limit).")
    String bandwidth;

    @Option(names = "--max-delete", paramLabel = "PERCENT", defaultValue = "50",
            description = "Hold a peer's burst of deletions that would remove more than this share of the tree (and at least "
                    + "50 names) until `stratafs release-deletes` lets it through (default ${DEFAULT-VALUE}; 100 = never hold).")
    int maxDeletePercent;

    /** The settings, checked: a bad value is refused with a sentence. */
    MountedVolume.SyncSettings settings(StoreOptions peerReach) {
        long rate = Sizes.parse(bandwidth);
        if (rate < 0) {
            throw new IllegalArgumentException("--sync-bandwidth must be 0 (no limit) or a rate such as 20M, got " + bandwidth);
        }
        if (maxDeletePercent < 1 || maxDeletePercent > 100) {
            throw new IllegalArgumentException("--max-delete must be a percentage from 1 to 100, got " + maxDeletePercent);
        }
        return new MountedVolume.SyncSettings(peerReach, rate, maxDeletePercent);
    }

    /** The same options for a re-launched daemon. */
    List<String> asArgs() {
        return List.of("--sync-bandwidth=" + bandwidth, "--max-delete=" + maxDeletePercent);
    }
}
