package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.store.s3.S3ProxyServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code stratafs warmup} through real mounts: warmed files read with the storage unreachable, the
 * stop at the cache size, and bad input; plus {@code status PATH}'s bad input.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WarmupIT {
    private static final Pattern SUMMARY = Pattern.compile(
            "warmup: (\\d+) of (\\d+) files \\([0-9.]+ [KMG]?i?B\\) in the cache; fetched [0-9.]+ [KMG]?i?B in [0-9.]+ s, [0-9.]+ MiB/s");
    private S3ProxyServer server;

    @BeforeAll
    void startServer() throws Exception {
        server = S3ProxyServer.startInTempDir("stratafs-s3proxy-", "vol");
    }

    @AfterAll
    void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private static void oneLineFailure(Shell.Split r, String expected) {
        String both = "stdout:\n" + r.stdout() + "stderr:\n" + r.stderr();
        assertNotEquals(0, r.exit(), both);
        assertEquals("", r.stdout(), "a failure printed to stdout: " + both);
        assertEquals(1, r.stderr().strip().lines().count(), "not one line on stderr: " + both);
        assertTrue(r.stderr().contains(expected), "expected \"" + expected + "\" in: " + both);
    }

    private static Matcher summary(Shell.Split r) {
        Matcher m = SUMMARY.matcher(r.stdout().strip());
        assertTrue(m.matches(), "no summary line: " + r.stdout() + r.stderr());
        return m;
    }

    @Test
    void everyWarmedFileReadsWithTheServerStopped() throws Exception {
        MountFixture fs = new MountFixture().withStorage("s3://vol/warm", "--endpoint", server.endpoint().toString(), "--path-style");
        fs.env.put("AWS_ACCESS_KEY_ID", S3ProxyServer.ACCESS_KEY);
        fs.env.put("AWS_SECRET_ACCESS_KEY", S3ProxyServer.SECRET_KEY);
        fs.env.put("AWS_EC2_METADATA_DISABLED", "true");
        try (fs) {
            fs.format().mount();
            fs.sh("mkdir -p d/sub && for i in $(seq 1 8); do head -c $((i * 100000)) /dev/urandom > d/f$i; done"
                    + " && for i in 1 2; do head -c 1500000 /dev/urandom > d/sub/g$i; done && echo small > one"
                    + " && find d one -type f | sort | xargs sha256sum > %s/sums".formatted(fs.root));
            fs.remountWithEmptyCache();
            Shell.Split warm = MountFixture.cliSplit("warmup", fs.mnt.resolve("d").toString(), fs.mnt.resolve("one").toString(),
                    "--parallel", "4");
            assertEquals(0, warm.exit(), warm.stdout() + warm.stderr());
            Matcher m = summary(warm);
            assertEquals("11", m.group(1), warm.stdout());
            assertEquals("11", m.group(2), warm.stdout());
            server.stop();
            try {
                fs.sh("sha256sum --quiet -c %s/sums".formatted(fs.root));
            } finally {
                server.restartSamePort();
            }
        }
    }

    @Test
    void warmupStopsBeforeTheNextFileWouldEvictWhatItFetched() throws Exception {
        try (MountFixture fs = new MountFixture().withMountArgs("--cache-size", "8M").format().mount()) {
            fs.sh("for i in 1 2 3 4 5 6; do head -c 2000000 /dev/urandom > f$i; done && sha256sum f? > %s/sums".formatted(fs.root));
            fs.remountWithEmptyCache();
            Shell.Split warm = MountFixture.cliSplit("warmup", fs.mnt.toString(), "--parallel", "2");
            assertEquals(3, warm.exit(), warm.stdout() + warm.stderr());
            int warmed = Integer.parseInt(summary(warm).group(1));
            assertTrue(warmed >= 1 && warmed < 6, warm.stdout());
            assertTrue(warm.stderr().strip().startsWith("stratafs: warmup stopped before " + fs.mnt.resolve("f" + (warmed + 1)) + ": "),
                    warm.stderr());
            assertTrue(warm.stderr().contains("raise --cache-size"), warm.stderr());
            Path store = Path.of(fs.storage);
            Path away = fs.root.resolve("store-away");
            Files.move(store, away);
            try {
                fs.sh("head -n %d %s/sums | sha256sum --quiet -c".formatted(warmed, fs.root));
            } finally {
                Files.move(away, store);
            }
        }
    }

    @Test
    void badPathsAndOptionsFailInOneLine() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "stratafs-it-warmup-");
        try {
            oneLineFailure(MountFixture.cliSplit("warmup", dir.resolve("missing").toString()), dir + "/missing: no such file or directory");
            oneLineFailure(MountFixture.cliSplit("warmup", dir.toString()), dir + " is not inside a mounted StrataFS volume");
            oneLineFailure(MountFixture.cliSplit("warmup", dir.toString(), "--parallel", "0"), "--parallel must be between 1 and 64, got 0");
            oneLineFailure(MountFixture.cliSplit("warmup"), "PATH");
            oneLineFailure(MountFixture.cliSplit("status", dir.resolve("missing").toString()), dir + "/missing does not exist");
            oneLineFailure(MountFixture.cliSplit("status", dir.toString()), "no StrataFS mount is running at " + dir);
        } finally {
            Files.delete(dir);
        }
    }
}
