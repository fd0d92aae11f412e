package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.cli.FakeSystemd;
import io.stratafs.store.s3.S3ProxyServer;
import io.stratafs.testing.TempDirs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The daemon under a service manager, with the test playing systemd: a datagram socket as
 * NOTIFY_SOCKET (systemd need not be PID 1), {@code stratafs mount --foreground} as its child, and
 * the unit template checked by {@code systemd-analyze verify}.
 */
class SystemdIT {
    private static final Duration START = Duration.ofSeconds(60);
    private static final Pattern FIGURES = Pattern.compile(
            "dirty (\\d+\\.\\d) MiB in (\\d+) blocks; upload backlog (\\d+) blocks, (\\d+) journal records");

    private static Process startForeground(MountFixture fs, FakeSystemd systemd, Path log, Map<String, String> env, String... extra)
            throws Exception {
        List<String> cmd = Shell.command(MountFixture.LAUNCHER.toString());
        cmd.addAll(fs.mountArgs());
        cmd.add("--foreground");
        cmd.addAll(List.of(extra));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(fs.env);
        pb.environment().put("NOTIFY_SOCKET", systemd.address());
        pb.environment().putAll(env);
        return pb.start();
    }

    private static void kill(Process p) throws InterruptedException {
        if (p != null && p.isAlive()) {
            p.destroyForcibly().waitFor();
        }
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static Object dev(Path p) throws Exception {
        return Files.getAttribute(p, "unix:dev");
    }

    @Test
    void theUnitTemplatePassesSystemdAnalyzeVerify() throws Exception {
        Path dir = Files.createTempDirectory(Paths.get("/tmp"), "stratafs-unit-");
        try {
            // the installed paths need not exist here: point ExecStart at this tree's launcher
            String unit = Files.readString(Paths.get("mount-scripts/stratafs@.service"))
                    .replace("/usr/local/bin/stratafs", MountFixture.LAUNCHER.toString());
            assertTrue(unit.contains("Type=notify") && unit.contains("WatchdogSec=") && unit.contains("NotifyAccess=main"), unit);
            Files.writeString(dir.resolve("stratafs@.service"), unit);
            Shell.Result r = Shell.run(dir, 60, List.of("systemd-analyze", "verify", dir.resolve("stratafs@vol.service").toString()));
            assertEquals(0, r.exit(), "systemd-analyze verify failed:\n" + r.out());
            assertEquals("", r.out().strip(), "systemd-analyze verify complains about the unit:\n" + r.out());

            // the check sees mistakes: systemd-analyze only warns (exit 0) about a value it ignores
            Files.writeString(dir.resolve("stratafs@.service"), unit.replace("WatchdogSec=60", "WatchdogSec=sixty"));
            Shell.Result bad = Shell.run(dir, 60, List.of("systemd-analyze", "verify", dir.resolve("stratafs@vol.service").toString()));
            assertTrue(bad.out().contains("WatchdogSec") || bad.out().contains("sixty"), "a broken unit went unnoticed:\n" + bad.out());
        } finally {
            TempDirs.delete(dir);
        }
    }

    @Test
    void theSyncUnitTemplatePassesSystemdAnalyzeVerify() throws Exception {
        Path dir = Files.createTempDirectory(Paths.get("/tmp"), "stratafs-unit-");
        try {
            String unit = Files.readString(Paths.get("mount-scripts/stratafs-sync@.service"))
                    .replace("/usr/local/bin/stratafs", MountFixture.LAUNCHER.toString());
            assertTrue(unit.contains(" sync ") && unit.contains("TimeoutStopSec="), unit);
            Files.writeString(dir.resolve("stratafs-sync@.service"), unit);
            Shell.Result r = Shell.run(dir, 60, List.of("systemd-analyze", "verify", dir.resolve("stratafs-sync@site.service").toString()));
            assertEquals(0, r.exit(), "systemd-analyze verify failed:\n" + r.out());
            assertEquals("", r.out().strip(), "systemd-analyze verify complains about the unit:\n" + r.out());
        } finally {
            TempDirs.delete(dir);
        }
    }

    @Test
    void readyWhenAnsweringStatusWithTheBacklogWatchdogPingsThenStoppingAndADrainOnSigterm() throws Exception {
        Path serverDir = Files.createTempDirectory(Paths.get("/tmp"), "stratafs-s3proxy-");
        S3ProxyServer server = S3ProxyServer.start(serverDir);
        try {
            server.createBucket("vol");
            MountFixture fs = new MountFixture().withStorage("s3://vol/sd", "--endpoint", server.endpoint().toString(), "--path-style");
            fs.env.put("AWS_ACCESS_KEY_ID", S3ProxyServer.ACCESS_KEY);
            fs.env.put("AWS_SECRET_ACCESS_KEY", S3ProxyServer.SECRET_KEY);
            fs.env.put("AWS_EC2_METADATA_DISABLED", "true");
            byte[] data = random((3 << 20) + 5, 3);
            try (fs; FakeSystemd systemd = FakeSystemd.at(fs.root.resolve("notify.sock"))) {
                fs.format("--block-size", "1M");
                Path log = fs.root.resolve("daemon.log");
                Process daemon = startForeground(fs, systemd, log, Map.of("WATCHDOG_USEC", "2000000"), "--stop-timeout", "60");
                try {
                    systemd.await("READY=1"::equals, START, "READY=1");
                    assertTrue(fs.isMounted(), "READY=1 came before the mount");
                    assertNotEquals(dev(fs.root), dev(fs.mnt), "at READY=1 a stat of the mountpoint does not reach the mount");
                    try (Stream<Path> list = Files.list(fs.mnt)) {
                        assertEquals(0, list.count(), "the fresh volume does not answer a listing at READY=1");
                    }
                    for (int i = 0; i < 3; i++) {
                        systemd.await("WATCHDOG=1"::equals, Duration.ofSeconds(10), "watchdog ping " + (i + 1));
                    }

                    server.stop();
                    Files.write(fs.mnt.resolve("written-before-stop"), data);
                    awaitStatusAgreeingWithStatusCommand(fs, systemd);
                    for (int i = 0; i < 2; i++) {
                        systemd.await("WATCHDOG=1"::equals, Duration.ofSeconds(10), "watchdog ping while the target is down");
                    }

                    daemon.destroy();
                    systemd.await("STOPPING=1"::equals, Duration.ofSeconds(30), "STOPPING=1 after SIGTERM");
                    String first = systemd.await(l -> l.startsWith("STATUS="), Duration.ofSeconds(5), "STATUS with STOPPING=1");
                    assertTrue(first.startsWith("STATUS=stopping") && backlogBlocks(first) > 0,
                            "the stop's status line does not show the backlog: " + first);
                    String during = systemd.await(l -> l.startsWith("STATUS=stopping"), Duration.ofSeconds(15), "a status line during the drain");
                    assertTrue(backlogBlocks(during) > 0, "the target is down, yet the drain reports no backlog: " + during);

                    server.restartSamePort();
                    assertTrue(daemon.waitFor(90, TimeUnit.SECONDS), "no exit within 90 s of SIGTERM:\n" + Files.readString(log));
                    assertEquals(0, daemon.exitValue(), "a stop that drained everything exits 0:\n" + Files.readString(log));
                    systemd.await(l -> l.startsWith("STATUS=stopped: every block and journal record is in every storage target"),
                            Duration.ofSeconds(5), "the final status line");
                } finally {
                    kill(daemon);
                }
                assertFalse(fs.isMounted(), "the stop leaves nothing mounted");

                fs.cache = fs.root.resolve("cache-fresh");
                fs.mount();
                assertArrayEquals(data, Files.readAllBytes(fs.mnt.resolve("written-before-stop")),
                        "a fresh cache does not read from the target what was written before the stop");
            }
        } finally {
            server.close();
            TempDirs.delete(serverDir);
        }
    }

    /**
     * Waits for a STATUS line whose dirty data and backlog equal what {@code stratafs status --json}
     * reported just before it, with blocks pending (the target is down, so the figures hold still).
     */
    private static String awaitStatusAgreeingWithStatusCommand(MountFixture fs, FakeSystemd systemd) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        List<String> seen = new ArrayList<>();
        while (System.nanoTime() < deadline) {
            String json = fs.statusJson();
            long dirtyBytes = field(json, "dirtyBytes");
            long dirtyBlocks = field(json, "dirtyBlocks");
            long pendingBlocks = field(json, "pendingBlocks");
            systemd.takeLines();
            String line = systemd.await(l -> l.startsWith("STATUS=serving"), Duration.ofSeconds(15), "a periodic STATUS line");
            seen.add(line);
            Matcher m = FIGURES.matcher(line);
            assertTrue(m.find(), "a STATUS line without the figures: " + line);
            String mib = String.format(Locale.ROOT, "%.1f", dirtyBytes / (double) (1L << 20));
            if (pendingBlocks > 0 && m.group(1).equals(mib) && Long.parseLong(m.group(2)) == dirtyBlocks
                    && Long.parseLong(m.group(3)) == pendingBlocks) {
                return line;
            }
        }
        throw new AssertionError("no STATUS line agreed with stratafs status; seen: " + seen);
    }

    /** A volume-wide number of the status JSON (its first occurrence; per-target figures follow). */
    private static long field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":(\\d+)").matcher(json);
        assertTrue(m.find(), "status has no field " + name + ": " + json);
        return Long.parseLong(m.group(1));
    }

    private static long backlogBlocks(String statusLine) {
        Matcher m = FIGURES.matcher(statusLine);
        assertTrue(m.find(), "a STATUS line without the figures: " + statusLine);
        return Long.parseLong(m.group(3));
    }

    @Test
    void watchdogPingsStopWhileTheMountRootDoesNotAnswerAndResumeWhenItDoes() throws Exception {
        try (MountFixture fs = new MountFixture().format();
             FakeSystemd systemd = FakeSystemd.at(fs.root.resolve("notify.sock"))) {
            Path hold = fs.root.resolve("hold-statfs");
            Path log = fs.root.resolve("daemon.log");
            Process daemon = startForeground(fs, systemd, log, Map.of("WATCHDOG_USEC", "2000000",
                    "STRATAFS_JAVA_OPTS", "-Dstratafs.test.holdStatfs=" + hold));
            try {
                systemd.await("READY=1"::equals, START, "READY=1");
                systemd.await("WATCHDOG=1"::equals, Duration.ofSeconds(10), "the first watchdog ping");

                Files.createFile(hold);
                // a probe that has waited 2 s is the held one, not a slow one from before the hold
                systemd.await(l -> l.startsWith("STATUS=") && Pattern.compile("NOT ANSWERING: .* waited [2-9]").matcher(l).find(),
                        Duration.ofSeconds(20), "a status line saying the mount does not answer");
                systemd.takeLines();
                List<String> whileHeld = linesDuring(systemd, Duration.ofSeconds(4));
                assertFalse(whileHeld.contains("WATCHDOG=1"), "a watchdog ping while the mount root did not answer: " + whileHeld);
                assertTrue(whileHeld.stream().filter(l -> l.contains("NOT ANSWERING")).count() >= 2,
                        "the watchdog ticks did not go on (4 s at a tick per second): " + whileHeld);

                Files.delete(hold);
                systemd.await("WATCHDOG=1"::equals, Duration.ofSeconds(10), "a watchdog ping after the mount answers again");
                String text = Files.readString(log);
                assertTrue(text.contains("did not answer a stat of its root within 500 ms; withholding watchdog pings"), text);
                assertTrue(text.contains("answers again; watchdog pings resume"), text);

                daemon.destroy();
                assertTrue(daemon.waitFor(60, TimeUnit.SECONDS), "no exit within 60 s of SIGTERM:\n" + Files.readString(log));
                assertEquals(0, daemon.exitValue(), Files.readString(log));
            } finally {
                Files.deleteIfExists(hold);
                kill(daemon);
            }
        }
    }

    /** Every line that arrives within {@code window}: the absence of a ping can only be seen over time. */
    private static List<String> linesDuring(FakeSystemd systemd, Duration window) throws InterruptedException {
        long end = System.nanoTime() + window.toNanos();
        List<String> lines = new ArrayList<>();
        while (System.nanoTime() < end) {
            try {
                lines.add(systemd.await(l -> true, Duration.ofNanos(Math.max(1, end - System.nanoTime())), "any line"));
            } catch (AssertionError nothingMore) {
                break;
            }
        }
        return lines;
    }

    @Test
    void malformedSystemdVariablesStopTheMountWithOneLineBeforeMounting() throws Exception {
        try (MountFixture fs = new MountFixture().format()) {
            List<String> mount = new ArrayList<>(fs.mountArgs());
            mount.add("--foreground");
            fs.env.put("NOTIFY_SOCKET", "run/notify");
            Shell.Result r = fs.run(mount.toArray(new String[0]));
            assertNotEquals(0, r.exit());
            assertEquals("stratafs: NOTIFY_SOCKET=run/notify is neither an absolute socket path nor an abstract socket name starting with @",
                    r.out().strip());

            fs.env.put("NOTIFY_SOCKET", "@stratafs-it");
            fs.env.put("WATCHDOG_USEC", "soon");
            r = fs.run(mount.toArray(new String[0]));
            assertNotEquals(0, r.exit());
            assertTrue(r.out().strip().startsWith("stratafs: WATCHDOG_USEC=soon is not a positive whole number of microseconds")
                    && !r.out().strip().contains("\n"), r.out());
            assertFalse(fs.isMounted());
        }
    }
}
