package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.stratafs.store.s3.S3ProxyServer;
import io.stratafs.testing.TempDirs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The daemon's log: --log-file, journald-style lines in the foreground under systemd (JOURNAL_STREAM
 * naming stderr), and no credential in any line of the log, the commands' output or status, with a
 * secret key in the environment and a password in the endpoint URL, also while uploads fail.
 */
class LoggingIT {
    private static final String ENDPOINT_PASSWORD = "endpoint-pw-LoggingIT-9f3c";
    private static final Pattern TIMESTAMP = Pattern.compile("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d");
    private static final Pattern PRIORITY = Pattern.compile("^<[0-7]>(ERROR|WARN|INFO|DEBUG|TRACE) .*");

    @Test
    void noCredentialReachesTheLogFileTheCommandsOrStatusEvenWhileUploadsFail() throws Exception {
        Path serverDir = Files.createTempDirectory(Path.of("/tmp"), "stratafs-s3proxy-");
        try (S3ProxyServer server = S3ProxyServer.start(serverDir)) {
            server.createBucket("vol");
            String endpoint = "http://logging-user:" + ENDPOINT_PASSWORD + "@127.0.0.1:" + server.endpoint().getPort();
            try (MountFixture fs = new MountFixture().withStorage("s3://vol/logs", "--endpoint", endpoint, "--path-style")) {
                fs.env.put("AWS_ACCESS_KEY_ID", S3ProxyServer.ACCESS_KEY);
                fs.env.put("AWS_SECRET_ACCESS_KEY", S3ProxyServer.SECRET_KEY);
                fs.env.put("AWS_EC2_METADATA_DISABLED", "true");
                Path log = Files.createDirectories(fs.root.resolve("logs")).resolve("daemon.log");
                List<String> seen = new ArrayList<>();
                fs.format();
                List<String> mount = new ArrayList<>(fs.mountArgs());
                mount.addAll(List.of("--log-file", log.toString()));
                seen.add(fs.runOk(mount.toArray(new String[0])));
                assertTrue(fs.isMounted());
                seen.add(new String(Files.readAllBytes(java.nio.file.Paths.get("/proc", Long.toString(fs.daemonPid()), "cmdline")),
                        StandardCharsets.UTF_8));

                fs.sh("head -c 2000000 /dev/urandom > a");
                server.restartSamePort(S3ProxyServer.ACCESS_KEY, "a-rotated-secret-LoggingIT");
                try {
                    fs.sh("head -c 2000000 /dev/urandom > b");
                    long deadline = System.currentTimeMillis() + 60_000;
                    while (!fs.statusJson().contains("\"healthy\":false")) {
                        assertTrue(System.currentTimeMillis() < deadline, "the target never became unhealthy: " + fs.statusJson());
                        Thread.sleep(200);
                    }
                    seen.add(fs.statusJson());
                    seen.add(fs.runOk("status", fs.mnt.toString()));
                } finally {
                    server.restartSamePort();
                }
                seen.add(fs.runOk("umount", fs.mnt.toString()));

                String text = Files.readString(log);
                assertTrue(text.contains("mounting volume"), "--log-file got no log:\n" + text);
                assertTrue(text.contains("uploads to ") && text.contains(" failed"), "the failing uploads were not logged:\n" + text);
                assertFalse(Files.exists(fs.cache.resolve("stratafs.log")), "the log also went to the cache dir");
                seen.add(text);
                for (String s : seen) {
                    assertFalse(s.contains(S3ProxyServer.SECRET_KEY), "the secret key leaked into:\n" + s);
                    assertFalse(s.contains(ENDPOINT_PASSWORD), "the endpoint password leaked into:\n" + s);
                }
            }
        } finally {
            TempDirs.delete(serverDir);
        }
    }

    @Test
    void underJournaldTheForegroundLogHasPrioritiesAndNoTimesWhileTheBackgroundLogKeepsTimes() throws Exception {
        try (MountFixture fs = new MountFixture().format()) {
            Path stream = Files.createFile(fs.root.resolve("journal-stream"));
            Map<String, Object> st = Files.readAttributes(stream, "unix:dev,ino");
            String journalStream = st.get("dev") + ":" + st.get("ino");

            List<String> cmd = Shell.command(MountFixture.LAUNCHER.toString());
            cmd.addAll(fs.mountArgs());
            cmd.add("--foreground");
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(stream.toFile());
            pb.environment().put("JOURNAL_STREAM", journalStream);
            Process daemon = pb.start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!fs.isMounted()) {
                    if (!daemon.isAlive() || System.nanoTime() > deadline) {
                        fail("the foreground mount did not come up:\n" + Files.readString(stream));
                    }
                    Thread.sleep(50);
                }
                fs.sh("echo x > f");
                fs.umount();
                assertTrue(daemon.waitFor(60, TimeUnit.SECONDS), "no exit after umount:\n" + Files.readString(stream));
                assertEquals(0, daemon.exitValue(), Files.readString(stream));
            } finally {
                if (daemon.isAlive()) {
                    daemon.destroyForcibly().waitFor();
                }
            }
            List<String> lines = Files.readAllLines(stream).stream().filter(l -> !l.isBlank()).toList();
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("<6>INFO MountedVolume - mounting volume")), String.join("\n", lines));
            for (String line : lines) {
                assertTrue(PRIORITY.matcher(line).matches(), "not a journald line: " + line);
                assertFalse(TIMESTAMP.matcher(line).find(), "journald stamps the time itself: " + line);
            }

            // the background daemon inherits JOURNAL_STREAM but writes to its log file: times, no prefixes
            fs.env.put("JOURNAL_STREAM", journalStream);
            fs.mount();
            fs.umount();
            List<String> logged = Files.readAllLines(fs.cache.resolve("stratafs.log")).stream()
                    .filter(l -> l.contains("mounting volume")).toList();
            assertFalse(logged.isEmpty());
            for (String line : logged) {
                assertTrue(TIMESTAMP.matcher(line).lookingAt() && !line.startsWith("<"), "not a log-file line: " + line);
            }
        }
    }

    @Test
    void logFileMistakesFailWithOneLineAndMountNothing() throws Exception {
        try (MountFixture fs = new MountFixture().format()) {
            List<String> base = fs.mountArgs();
            List<String> missingDir = new ArrayList<>(base);
            missingDir.addAll(List.of("--log-file", fs.root.resolve("no/such/dir/x.log").toString()));
            oneLine(MountFixture.cliSplit(missingDir.toArray(new String[0])), "does not exist");
            List<String> foreground = new ArrayList<>(base);
            foreground.addAll(List.of("--foreground", "--log-file", fs.root.resolve("x.log").toString()));
            oneLine(MountFixture.cliSplit(foreground.toArray(new String[0])), "--log-file is for the background daemon");
            assertFalse(fs.isMounted());
            assertTrue(fs.daemons().isEmpty());
        }
    }

    private static void oneLine(Shell.Split r, String expected) {
        String both = "stdout:\n" + r.stdout() + "stderr:\n" + r.stderr();
        assertNotEquals(0, r.exit(), both);
        assertEquals(1, r.stderr().strip().lines().count(), "not one line on stderr: " + both);
        assertTrue(r.stderr().contains(expected), "expected \"" + expected + "\" in: " + both);
    }
}
