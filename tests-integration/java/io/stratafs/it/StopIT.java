package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.stratafs.store.s3.S3ProxyServer;
import io.stratafs.testing.TempDirs;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Stopping a mount with SIGTERM (what systemd sends): the daemon refuses new writes, commits open
 * files and uploads everything before it exits 0; when the target cannot take it all within
 * --stop-timeout it exits 1 and its log names what is pending per target, and nothing is lost.
 * The daemon runs in the foreground as the test's child, so the test sees its exit status.
 */
class StopIT {

    /** Starts {@code stratafs mount --foreground} for the fixture, output to {@code log}; returns once mounted. */
    private static Process startForeground(MountFixture fs, Path log, String... extra) throws Exception {
        List<String> cmd = Shell.command(MountFixture.LAUNCHER.toString());
        cmd.addAll(fs.mountArgs());
        cmd.add("--foreground");
        cmd.addAll(List.of(extra));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(fs.env);
        Process daemon = pb.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!fs.isMounted()) {
            if (!daemon.isAlive() || System.nanoTime() > deadline) {
                daemon.destroyForcibly().waitFor();
                fail("the foreground mount did not come up:\n" + Files.readString(log));
            }
            Thread.sleep(50);
        }
        return daemon;
    }

    private static void stop(Process p) throws InterruptedException {
        if (p != null && p.isAlive()) {
            p.destroyForcibly().waitFor();
        }
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void sigtermWithAFileHeldOpenCommitsAndUploadsItThenExitsZero() throws Exception {
        try (MountFixture fs = new MountFixture().format("--block-size", "1M")) {
            Path data = fs.root.resolve("data");
            Files.write(data, random((5 << 20) + 123, 7));
            Path log = fs.root.resolve("daemon.log");
            Process daemon = startForeground(fs, log, "--stop-timeout", "60");
            Process holder = null;
            try {
                // the holder writes through an fd it keeps open (sleep inherits it) and never closes
                holder = new ProcessBuilder("bash", "-c", "exec 3>\"$1\"; cat \"$2\" >&3; echo written; exec sleep 600",
                        "holder", fs.mnt.resolve("held").toString(), data.toString()).redirectErrorStream(true).start();
                BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
                assertEquals("written", out.readLine(), "the holder could not write its file");

                daemon.destroy();
                assertTrue(daemon.waitFor(90, TimeUnit.SECONDS), "no exit within 90 s of SIGTERM:\n" + Files.readString(log));
                assertEquals(0, daemon.exitValue(), "a stop that drained everything exits 0:\n" + Files.readString(log));
            } finally {
                stop(holder);
                stop(daemon);
            }
            assertFalse(fs.isMounted(), "the stop leaves nothing mounted");

            fs.cache = fs.root.resolve("cache-fresh");
            fs.mount();
            assertArrayEquals(Files.readAllBytes(data), Files.readAllBytes(fs.mnt.resolve("held")),
                    "a new machine reads from the target what was written before the stop");
        }
    }

    @Test
    void sigtermWithTheTargetDownExitsOneNamingWhatIsPendingAndLosesNothing() throws Exception {
        Path serverDir = Files.createTempDirectory(Path.of("/tmp"), "stratafs-s3proxy-");
        S3ProxyServer server = S3ProxyServer.start(serverDir);
        try {
            server.createBucket("vol");
            MountFixture fs = new MountFixture().withStorage("s3://vol/stop", "--endpoint", server.endpoint().toString(), "--path-style");
            fs.env.put("AWS_ACCESS_KEY_ID", S3ProxyServer.ACCESS_KEY);
            fs.env.put("AWS_SECRET_ACCESS_KEY", S3ProxyServer.SECRET_KEY);
            fs.env.put("AWS_EC2_METADATA_DISABLED", "true");
            try (fs) {
                fs.format("--block-size", "1M");
                byte[] data = random((3 << 20) + 5, 11);
                Path log = fs.root.resolve("daemon.log");
                Process daemon = startForeground(fs, log, "--stop-timeout", "3");
                try {
                    server.stop();
                    Files.write(fs.mnt.resolve("late"), data);

                    daemon.destroy();
                    assertTrue(daemon.waitFor(60, TimeUnit.SECONDS), "no exit within 60 s of SIGTERM:\n" + Files.readString(log));
                    String text = Files.readString(log);
                    assertEquals(1, daemon.exitValue(), "a stop that left data behind must not exit 0:\n" + text);
                    assertTrue(Pattern.compile("stopped with data not yet in the storage targets.*s3://vol/stop\\S*: [1-9][0-9]* block\\(s\\) and "
                            + "[1-9][0-9]* journal record\\(s\\) pending").matcher(text).find(), "the log does not name what is pending:\n" + text);
                } finally {
                    stop(daemon);
                }
                assertFalse(fs.isMounted(), "the stop leaves nothing mounted");

                server.restartSamePort();
                fs.mount();
                fs.umount();
                for (int off = 0; off < data.length; off += 1 << 20) {
                    byte[] block = Arrays.copyOfRange(data, off, Math.min(data.length, off + (1 << 20)));
                    String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(block));
                    assertTrue(Files.exists(serverDir.resolve("vol/stop/blocks").resolve(hex.substring(0, 2)).resolve(hex)),
                            "block at " + off + " did not reach the target after the next mount");
                }
            }
        } finally {
            server.close();
            TempDirs.delete(serverDir);
        }
    }
}
