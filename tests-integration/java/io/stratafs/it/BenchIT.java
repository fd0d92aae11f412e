package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.testing.TempDirs;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code stratafs bench} on a plain directory and on a StrataFS mount: every workload reports a
 * figure, the JSON parses, the scratch directory is gone afterwards (also after Ctrl-C), and the
 * progress line appears on a terminal only. Small sizes: this checks the harness, not the speed.
 */
class BenchIT {
    private static final List<String> WORKLOADS = List.of("sequential-write", "sequential-read", "create", "stat", "read", "delete",
            "unpack-tree", "remove-tree");

    private Path plain;

    @BeforeEach
    void setUp() throws IOException {
        plain = Files.createTempDirectory(Paths.get("/tmp"), "stratafs-it-bench-");
    }

    @AfterEach
    void tearDown() throws IOException {
        TempDirs.delete(plain);
    }

    /** Checks the JSON with python3's parser: every workload once, a positive figure, the unit; returns the filesystem type. */
    private static String checkJson(String json, boolean dropped) {
        String script = """
                import json, sys
                o = json.loads(sys.argv[1])
                got = [r["workload"] for r in o["results"]]
                assert got == sys.argv[2].split(","), got
                for r in o["results"]:
                    assert r["value"] > 0 and r["seconds"] > 0, r
                    assert r["unit"] == ("MiB/s" if r["workload"].startswith("sequential") else "files/s"), r
                assert o["pageCacheDropped"] == (sys.argv[3] == "true"), o
                assert o["sizeBytes"] == 8 << 20 and o["files"] == 150, o
                print(o["filesystem"])
                """;
        Shell.Result r = Shell.run(Paths.get("/tmp"), 60, List.of("python3", "-c", script, json.strip(), String.join(",", WORKLOADS),
                Boolean.toString(dropped)));
        assertEquals(0, r.exit(), "bad bench JSON: " + r.out() + "\n" + json);
        return r.out().strip();
    }

    private static void assertEmpty(Path dir) throws IOException {
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of(), left.toList(), "bench left files behind in " + dir);
        }
    }

    @Test
    void onAPlainDirectoryEveryWorkloadReportsAndNothingIsLeft() throws IOException {
        Shell.Split json = MountFixture.cliSplit("bench", plain.toString(), "--size", "8M", "--files", "150", "--json");
        assertEquals(0, json.exit(), json.stdout() + json.stderr());
        assertEquals("", json.stderr(), "no progress line without a terminal");
        assertEquals(Files.getFileStore(plain).type(), checkJson(json.stdout(), true));
        assertEmpty(plain);

        Shell.Split table = MountFixture.cliSplit("bench", plain.toString(), "--size", "8M", "--files", "150");
        assertEquals(0, table.exit(), table.stdout() + table.stderr());
        List<String> lines = table.stdout().strip().lines().toList();
        assertEquals(1 + WORKLOADS.size(), lines.size(), table.stdout());
        assertTrue(lines.get(0).startsWith("bench in " + plain), table.stdout());
        assertTrue(lines.get(1).matches("sequential write 8 MiB, fsync at the end +[0-9.]+ MiB/s"), table.stdout());
        assertTrue(lines.get(2).contains("page cache dropped"), table.stdout());
        assertTrue(lines.get(3).matches("create 150 files of 4 KiB +[0-9]+ files/s"), table.stdout());
        assertEmpty(plain);
    }

    @Test
    void helpNamesTheOptions() {
        Shell.Split r = MountFixture.cliSplit("bench", "--help");
        assertEquals(0, r.exit(), r.stdout() + r.stderr());
        assertTrue(r.stdout().contains("Usage: stratafs bench") && r.stdout().contains("--size") && r.stdout().contains("--files")
                && r.stdout().contains("--json"), r.stdout());
    }

    @Test
    void withoutRootTheReadIsWarmAndSaysSo() throws IOException {
        Files.setPosixFilePermissions(plain, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        List<String> cmd = Shell.command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", MountFixture.LAUNCHER.toString(),
                "bench", plain.toString(), "--size", "8M", "--files", "150", "--json");
        Shell.Split json = Shell.runSplit(Paths.get("/tmp"), 300, cmd);
        assertEquals(0, json.exit(), json.stdout() + json.stderr());
        checkJson(json.stdout(), false);
        assertTrue(json.stdout().contains("warm (page cache not dropped: not root)"), json.stdout());
        assertEmpty(plain);
    }

    @Test
    void onAStrataFsMountEveryWorkloadReportsAndTheVolumeStaysHealthy() throws IOException {
        try (MountFixture fs = new MountFixture()) {
            fs.format().mount();
            Shell.Split json = MountFixture.cliSplit("bench", fs.mnt.toString(), "--size", "8M", "--files", "150", "--json");
            assertEquals(0, json.exit(), json.stdout() + json.stderr() + fs.logTail());
            assertEquals("fuse.stratafs", checkJson(json.stdout(), true));
            assertEmpty(fs.mnt);
            assertTrue(fs.statusJson().contains("\"problems\":[]"), fs.statusJson());
            fs.umount();
        }
    }

    @Test
    void aProgressLineIsDrawnOnATerminal() {
        // script(1) gives the command a pseudo-terminal, as an operator's shell would
        String cmd = MountFixture.LAUNCHER + " bench " + plain + " --size 64M --files 2000";
        Shell.Result r = Shell.run(plain, 300, List.of("script", "-q", "-e", "-c", cmd, "/dev/null"));
        assertEquals(0, r.exit(), r.out());
        assertTrue(r.out().contains("\rcreate 2000 files of 4 KiB: "), "no progress line on a terminal: " + r.out());
        assertTrue(r.out().contains("files/s"), r.out());
    }

    @Test
    void ctrlCRemovesTheScratchDirectory() throws Exception {
        List<String> cmd = Shell.command(MountFixture.LAUNCHER.toString(), "bench", plain.toString(), "--size", "0", "--files", "1000000");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            Path small = null;
            while (small == null && System.nanoTime() < deadline) {
                try (Stream<Path> s = Files.walk(plain, 2)) {
                    small = s.filter(x -> x.getFileName().toString().equals("small")).findFirst().orElse(null);
                }
                if (small == null) {
                    TimeUnit.MILLISECONDS.sleep(20);
                }
            }
            assertTrue(small != null, "bench created no scratch directory within 60 s");
            Shell.Result kill = Shell.run(plain, 10, List.of("kill", "-INT", Long.toString(p.pid())));
            assertEquals(0, kill.exit(), kill.out());
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "bench did not stop on SIGINT");
            assertEmpty(plain);
        } finally {
            p.destroyForcibly();
            p.waitFor();
        }
    }
}
