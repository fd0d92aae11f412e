package io.stratafs.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

/** Every event renders to one line, and each level to the syslog priority journald reads. */
class LineLoggerTest {
    @Test
    void lineBreaksInsideAMessageAreFolded() {
        assertEquals("upload failed: 503 Slow Down | retry later | x",
                LineLogger.oneLine("upload failed: {}", new Object[] {"503 Slow Down\nretry later\r\nx\n"}));
    }

    @Test
    void placeholdersAreFilledAndAPlainMessageStaysAsItIs() {
        assertEquals("a 1 b two", LineLogger.oneLine("a {} b {}", new Object[] {1, "two"}));
        assertEquals("no {} args", LineLogger.oneLine("no {} args", null));
    }

    @Test
    void levelsMapToSyslogPriorities() {
        assertEquals("<3>", LineLogger.priority(Level.ERROR));
        assertEquals("<4>", LineLogger.priority(Level.WARN));
        assertEquals("<6>", LineLogger.priority(Level.INFO));
        assertEquals("<7>", LineLogger.priority(Level.DEBUG));
        assertEquals("<7>", LineLogger.priority(Level.TRACE));
    }
}
