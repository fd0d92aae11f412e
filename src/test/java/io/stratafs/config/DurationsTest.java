package io.stratafs.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DurationsTest {
    @Test
    void parsesEachUnitAndZero() {
        assertEquals(30_000, Durations.parseMillis("30s", "--min-age"));
        assertEquals(600_000, Durations.parseMillis("10m", "--min-age"));
        assertEquals(43_200_000, Durations.parseMillis("12h", "--min-age"));
        assertEquals(86_400_000, Durations.parseMillis("1d", "--min-age"));
        assertEquals(0, Durations.parseMillis("0", "--min-age"));
    }

    @Test
    void refusesAnythingElseWithASentenceNamingTheOption() {
        for (String bad : new String[] {"", "1", "-1d", "1w", "1.5h", "d", "1 d", "9999999999d"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parseMillis(bad, "--min-age"), bad);
            assertTrue(e.getMessage().startsWith("--min-age must be"), e.getMessage());
        }
    }
}
