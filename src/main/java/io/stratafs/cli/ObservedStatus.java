package io.stratafs.cli;

import io.stratafs.metrics.ErrorKind;
import io.stratafs.metrics.VolumeMetrics;
import io.stratafs.metrics.VolumeMetrics.ReadTier;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The status fields read from the volume's counters (the same ones the Prometheus endpoint serves):
 * cache hit ratio, transfer rates and totals, the age of the oldest change not yet in every
 * target, and errors by kind, all since mount.
 */
final class ObservedStatus {
    private ObservedStatus() {
    }

    static Map<String, Object> fields(VolumeMetrics metrics, double oldestPendingChangeAgeSeconds) {
        Map<String, Object> s = new LinkedHashMap<>();
        Double ratio = metrics.cacheHitRatio();
        s.put("cacheHitRatio", ratio == null ? null : Math.round(ratio * 10_000) / 10_000.0);
        s.put("cacheReadsRam", metrics.cacheReads(ReadTier.RAM));
        s.put("cacheReadsLocal", metrics.cacheReads(ReadTier.LOCAL));
        s.put("cacheReadsFetched", metrics.cacheReads(ReadTier.TARGET));
        s.put("uploadBytesPerSecond", Math.round(metrics.uploads().perSecond()));
        s.put("downloadBytesPerSecond", Math.round(metrics.downloads().perSecond()));
        s.put("uploadedBytesTotal", metrics.uploads().total());
        s.put("downloadedBytesTotal", metrics.downloads().total());
        s.put("oldestPendingChangeAgeSeconds", Math.round(oldestPendingChangeAgeSeconds * 1000) / 1000.0);
        Map<String, Object> errors = new LinkedHashMap<>();
        for (ErrorKind kind : ErrorKind.values()) {
            errors.put(kind.label(), metrics.errors(kind));
        }
        s.put("errors", errors);
        return s;
    }
}
