package io.stratafs.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.stratafs.clock.Hlc;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Conflict names as issue 8 and the design spell them. */
class ConflictNamesTest {
    private static final OpId B = new OpId(Hlc.ofMillis(Instant.parse("2026-11-30T10:15:00.999Z").toEpochMilli()) + 3, "B");

    @Test
    void theExtensionStaysAtTheEndAndTheTimeIsUtcSeconds() {
        assertEquals("report.conflict-B-20261130T101500Z.txt", ConflictNames.of("report.txt", B, 1));
        assertEquals("a.tar.conflict-B-20261130T101500Z.gz", ConflictNames.of("a.tar.gz", B, 1));
    }

    @Test
    void aNameWithoutANonLeadingDotHasNoExtension() {
        assertEquals("Makefile.conflict-B-20261130T101500Z", ConflictNames.of("Makefile", B, 1));
        assertEquals(".bashrc.conflict-B-20261130T101500Z", ConflictNames.of(".bashrc", B, 1));
    }

    @Test
    void aTakenNameGetsItsNumberAfterTheTime() {
        assertEquals("report.conflict-B-20261130T101500Z-2.txt", ConflictNames.of("report.txt", B, 2));
        assertEquals("x.conflict-B-20261130T101500Z-3", ConflictNames.of("x", B, 3));
    }

    @Test
    void aNameThatIsAlreadyAConflictNameLosesItsTagFirst() {
        assertEquals("r.conflict-B-20261130T101500Z.txt", ConflictNames.of("r.conflict-C-20261129T080000Z.txt", B, 1));
        assertEquals("a.conflict-B-20261130T101500Z", ConflictNames.of("a.conflict-D-20261129T080000Z-2", B, 1));
        assertEquals("a.conflict-B-20261130T101500Z",
                ConflictNames.of("a.conflict-D-20261129T080000Z.conflict-E-20261129T090000Z", B, 1));
        assertEquals(".conflict-x.conflict-B-20261130T101500Z", ConflictNames.of(".conflict-x", B, 1));
    }
}
