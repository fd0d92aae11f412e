package io.stratafs.metrics;

import java.util.List;

/**
 * The volume's levels at one moment (what a scrape or a status request reads once): cache and
 * dirty sizes, the upload backlog (the largest of any target's) and the age of the oldest change
 * not yet in every target, with each target's health and backlog.
 */
public record VolumeGauges(long cacheBytes, long cacheCapacityBytes, long dirtyBytes, long dirtyBlocks,
                           long uploadBacklogBlocks, long uploadBacklogJournalRecords,
                           double oldestPendingChangeAgeSeconds, List<Target> targets) {

    /** One target's health and backlog; {@code target} is its description, which carries no secret. */
    public record Target(String target, boolean healthy, long pendingBlocks, long pendingJournalRecords) {
    }
}
