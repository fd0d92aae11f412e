package io.stratafs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sd_notify sender against a real datagram socket, and how it reads systemd's environment. */
class SystemdNotifyTest {
    private static final long PID = 4242;

    @TempDir
    Path dir;

    @Test
    void withoutNotifySocketNothingIsSentAndNoWatchdogIsExpected() {
        SystemdNotify n = SystemdNotify.fromEnvironment(Map.of("WATCHDOG_USEC", "2000000"), PID);
        assertFalse(n.enabled());
        assertFalse(n.send("READY=1"));
        assertEquals(0, n.watchdogMillis());
    }

    @Test
    void aDatagramReachesASocketPathWithAllItsLines() throws Exception {
        try (FakeSystemd systemd = FakeSystemd.at(dir.resolve("notify"))) {
            SystemdNotify n = SystemdNotify.fromEnvironment(Map.of("NOTIFY_SOCKET", systemd.address()), PID);
            assertTrue(n.send("READY=1", "STATUS=serving; dirty 0.0 MiB"));
            systemd.await("STATUS=serving; dirty 0.0 MiB"::equals, Duration.ofSeconds(10), "STATUS line");
            assertEquals(List.of("READY=1\nSTATUS=serving; dirty 0.0 MiB"), systemd.received());
        }
    }

    @Test
    void anAtSignNamesTheAbstractNamespace() throws Exception {
        try (FakeSystemd systemd = FakeSystemd.atAbstract("stratafs-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime())) {
            SystemdNotify n = SystemdNotify.fromEnvironment(Map.of("NOTIFY_SOCKET", systemd.address()), PID);
            assertTrue(n.send("WATCHDOG=1"));
            systemd.await("WATCHDOG=1"::equals, Duration.ofSeconds(10), "WATCHDOG=1");
        }
    }

    @Test
    void aSocketNobodyListensOnFailsQuietlyWithoutThrowing() {
        SystemdNotify n = SystemdNotify.fromEnvironment(Map.of("NOTIFY_SOCKET", dir.resolve("gone").toString()), PID);
        assertFalse(n.send("READY=1"));
        assertFalse(n.send("READY=1"));
    }

    @Test
    void theWatchdogIntervalIsHonouredOnlyForThisProcess() {
        String socket = dir.resolve("notify").toString();
        assertEquals(2000, SystemdNotify.fromEnvironment(Map.of("NOTIFY_SOCKET", socket, "WATCHDOG_USEC", "2000000"), PID).watchdogMillis());
        assertEquals(2000, SystemdNotify.fromEnvironment(
                Map.of("NOTIFY_SOCKET", socket, "WATCHDOG_USEC", "2000000", "WATCHDOG_PID", Long.toString(PID)), PID).watchdogMillis());
        assertEquals(0, SystemdNotify.fromEnvironment(
                Map.of("NOTIFY_SOCKET", socket, "WATCHDOG_USEC", "2000000", "WATCHDOG_PID", "1"), PID).watchdogMillis());
        assertEquals(0, SystemdNotify.fromEnvironment(Map.of("NOTIFY_SOCKET", socket), PID).watchdogMillis());
    }

    @Test
    void malformedVariablesAreRefusedWithASentenceNamingThem() {
        String socket = dir.resolve("notify").toString();
        assertEquals("NOTIFY_SOCKET=run/notify is neither an absolute socket path nor an abstract socket name starting with @",
                assertThrows(IllegalArgumentException.class,
                        () -> SystemdNotify.fromEnvironment(Map.of("NOTIFY_SOCKET", "run/notify"), PID)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> SystemdNotify.fromEnvironment(Map.of("NOTIFY_SOCKET", "/" + "x".repeat(120)), PID)).getMessage()
                .contains("is longer than a Unix socket address can be"));
        for (String bad : List.of("soon", "0", "-5")) {
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> SystemdNotify.fromEnvironment(Map.of("NOTIFY_SOCKET", socket, "WATCHDOG_USEC", bad), PID)).getMessage()
                    .startsWith("WATCHDOG_USEC=" + bad + " is not a positive whole number of microseconds"));
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SystemdNotify.fromEnvironment(
                Map.of("NOTIFY_SOCKET", socket, "WATCHDOG_USEC", "1000000", "WATCHDOG_PID", "me"), PID)).getMessage()
                .startsWith("WATCHDOG_PID=me is not a process id"));
    }
}
