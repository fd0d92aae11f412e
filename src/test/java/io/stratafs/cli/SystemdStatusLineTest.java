package io.stratafs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The STATUS= line systemctl shows, built from the figures {@code stratafs status} prints. */
class SystemdStatusLineTest {

    private static Map<String, Object> figures(boolean healthy, List<String> problems) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("dirtyBytes", (3L << 20) + (1L << 19));
        s.put("dirtyBlocks", 4);
        s.put("pendingBlocks", 4L);
        s.put("pendingJournalEntries", 2L);
        s.put("problems", problems);
        s.put("targets", List.of(Map.of("target", "s3://a", "healthy", healthy), Map.of("target", "/b", "healthy", true)));
        return s;
    }

    @Test
    void carriesTheDirtyBytesAndTheUploadBacklog() {
        assertEquals("serving; dirty 3.5 MiB in 4 blocks; upload backlog 4 blocks, 2 journal records",
                SystemdService.statusLine("serving", figures(true, List.of()), 0));
    }

    @Test
    void namesUnhealthyTargetsAndProblems() {
        assertEquals("serving; dirty 3.5 MiB in 4 blocks; upload backlog 4 blocks, 2 journal records; 1 of 2 targets unhealthy; "
                + "1 problem(s), see stratafs status", SystemdService.statusLine("serving", figures(false, List.of("thread x died")), 0));
    }

    @Test
    void saysWhenTheMountStopsAnswering() {
        assertEquals("serving; NOT ANSWERING: a stat of the mount root has waited 12 s; dirty 3.5 MiB in 4 blocks; "
                + "upload backlog 4 blocks, 2 journal records", SystemdService.statusLine("serving", figures(true, List.of()), 12_400));
    }

    @Test
    void withoutFiguresSaysOnlyThePhase() {
        assertEquals("stopped: every block and journal record is in every storage target",
                SystemdService.statusLine("stopped: every block and journal record is in every storage target", null, 0));
    }
}
