package io.stratafs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.stratafs.metrics.ErrorKind;
import io.stratafs.metrics.VolumeMetrics;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The human form of status with the observed fields: errors by kind on one line, targets still last. */
class StatusHumanTest {

    @Test
    void errorsByKindReadAsPairsAndTheTargetListStillFollows() {
        VolumeMetrics metrics = new VolumeMetrics();
        metrics.error(ErrorKind.EIO);
        metrics.cacheRead(VolumeMetrics.ReadTier.RAM);
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("volume", "v");
        status.putAll(ObservedStatus.fields(metrics, 1.5));
        status.put("problems", List.of());
        status.put("targets", List.of(Map.of("target", "file:///a")));
        List<String> lines = StatusCommand.human(Json.write(status)).lines().toList();
        assertEquals("cacheHitRatio                  1.0", lines.get(1));
        assertEquals("oldestPendingChangeAgeSeconds  1.5", lines.get(9));
        assertEquals("errors                         target_unavailable=0 corrupt_object=0 corrupt_cache_block=0 cache_full=0 "
                + "eio=1 commit_failed=0", lines.get(10));
        assertEquals("problems                       []", lines.get(11));
        assertEquals("target", lines.get(12));
        assertEquals("  target                         file:///a", lines.get(13));
    }
}
