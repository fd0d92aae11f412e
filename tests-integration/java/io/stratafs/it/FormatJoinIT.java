package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.store.s3.S3ProxyServer;
import io.stratafs.testing.TempDirs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code stratafs format --site/--join} and {@code stratafs sites} through the real launcher: sites A
 * and B in local directories, C in an S3Proxy bucket reached with a per-site AWS profile (no
 * credentials in the environment), a site that was down during a join learning of it later, site
 * B's storage mounted by today's code, and bad input refused with one line and nothing written.
 */
class FormatJoinIT {
    private Path root;
    private Path serverDir;
    private S3ProxyServer server;
    private Path a;
    private Path b;

    @BeforeEach
    void setUp() throws Exception {
        root = Files.createTempDirectory(Paths.get("/tmp"), "stratafs-it-join-");
        a = root.resolve("a");
        b = root.resolve("b");
        serverDir = root.resolve("s3");
        server = S3ProxyServer.start(serverDir);
        server.createBucket("sitec");
        // the keys live only in this machine's AWS files, under the profile site C's record names
        Files.writeString(root.resolve("credentials"), "[site-c]\naws_access_key_id = " + S3ProxyServer.ACCESS_KEY
                + "\naws_secret_access_key = " + S3ProxyServer.SECRET_KEY + "\n");
        Files.writeString(root.resolve("config"), "");
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            server.close();
        } finally {
            TempDirs.delete(root);
        }
    }

    /** The launcher with AWS settings from this test's files only: no keys in the environment. */
    private Shell.Split cli(String... args) {
        List<String> cmd = new ArrayList<>(List.of("env", "-u", "AWS_ACCESS_KEY_ID", "-u", "AWS_SECRET_ACCESS_KEY", "-u", "AWS_PROFILE",
                "AWS_SHARED_CREDENTIALS_FILE=" + root.resolve("credentials"), "AWS_CONFIG_FILE=" + root.resolve("config"),
                "AWS_EC2_METADATA_DISABLED=true", MountFixture.LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        return Shell.runSplit(root, 120, cmd);
    }

    private String ok(String... args) {
        Shell.Split r = cli(args);
        assertEquals(0, r.exit(), () -> "stratafs " + String.join(" ", args) + " failed:\n" + r.stdout() + r.stderr());
        return r.stdout();
    }

    private static void oneLineFailure(Shell.Split r, String... expected) {
        String both = "stdout:\n" + r.stdout() + "stderr:\n" + r.stderr();
        assertNotEquals(0, r.exit(), both);
        assertEquals("", r.stdout(), "a failure printed to stdout: " + both);
        assertEquals(1, r.stderr().strip().lines().count(), "not one line on stderr: " + both);
        assertTrue(r.stderr().startsWith("stratafs: "), both);
        assertFalse(r.stderr().contains("Exception") || r.stderr().contains("\tat "), "a stack trace or exception name: " + both);
        for (String e : expected) {
            assertTrue(r.stderr().contains(e), "expected \"" + e + "\" in: " + both);
        }
    }

    private String s3c() {
        return "s3://sitec/vol";
    }

    private List<String> s3Args() {
        return List.of("--endpoint", server.endpoint().toString(), "--path-style", "--profile", "site-c");
    }

    private String[] with(List<String> extra, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(extra);
        return all.toArray(new String[0]);
    }

    /** The site names registered in a storage directory (for C: the bucket's directory under the S3Proxy). */
    private static Set<String> sites(Path storage) throws IOException {
        Set<String> out = new TreeSet<>();
        Path dir = storage.resolve("sites");
        if (Files.isDirectory(dir)) {
            try (Stream<Path> list = Files.list(dir)) {
                list.forEach(p -> out.add(p.getFileName().toString()));
            }
        }
        return out;
    }

    /** Every file under a directory with its content, to show that a refused command changed nothing. */
    private static String snapshot(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return "(absent)";
        }
        StringBuilder out = new StringBuilder();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted().toList()) {
                out.append(dir.relativize(p)).append('\n');
                if (Files.isRegularFile(p)) {
                    out.append(Files.readString(p)).append('\n');
                }
            }
        }
        return out.toString();
    }

    private Path bucketDir() {
        return serverDir.resolve("sitec").resolve("vol");
    }

    @Test
    void sitesRegisterWithEachOtherAndBsStorageMounts() throws Exception {
        ok("format", a.toString(), "--site", "A", "--name", "team");
        String joinedB = ok("format", b.toString(), "--site", "B", "--join", a.toString());
        assertTrue(joinedB.contains("as site B in " + b + "; registered at A"), joinedB);
        String joinedC = ok(with(s3Args(), "format", s3c(), "--site", "C", "--join", b.toString()));
        assertTrue(joinedC.contains("as site C in " + s3c() + "; registered at B, A"), joinedC);

        for (Path storage : List.of(a, b, bucketDir())) {
            assertEquals(Set.of("A", "B", "C"), sites(storage), storage.toString());
        }
        String volumeA = Files.readString(a.resolve("stratafs.volume"));
        String volumeC = Files.readString(bucketDir().resolve("stratafs.volume"));
        assertEquals(volumeA.replace("site=A", "site=C"), volumeC, "C holds the same volume (uuid, name, block size) as site C");
        String recordC = Files.readString(a.resolve("sites/C"), StandardCharsets.UTF_8);
        assertTrue(recordC.contains("storage=s3://sitec/vol") && recordC.contains("aws.profile=site-c")
                && recordC.contains("s3.endpoint=" + server.endpoint()), recordC);
        assertFalse(recordC.contains(S3ProxyServer.SECRET_KEY) || recordC.contains(S3ProxyServer.ACCESS_KEY), recordC);

        // A reads C's bucket with the profile C's record names: the environment holds no keys
        String listed = ok("sites", a.toString());
        assertTrue(listed.contains("A  file://" + a + "  (this site)"), listed);
        assertTrue(listed.contains("C  s3://sitec/vol  endpoint " + server.endpoint() + "  path-style  profile site-c  (reachable)"), listed);
        assertFalse(listed.contains("did not answer"), listed);

        // C is down while D joins through A: C learns of D from A when it next looks
        Path d = root.resolve("d");
        server.stop();
        String joinedD = ok("format", d.toString(), "--site", "D", "--join", a.toString());
        assertTrue(joinedD.contains("; registered at A, B\n"), joinedD);
        assertTrue(joinedD.contains("site C did not answer; it learns of D from any peer it reaches: "), joinedD);
        assertEquals(Set.of("A", "B", "C"), sites(bucketDir()));
        server.restartSamePort();
        String listedC = ok(with(s3Args(), "sites", s3c()));
        assertTrue(listedC.contains("copied into " + s3c() + ": D"), listedC);
        assertTrue(listedC.contains("C  s3://sitec/vol  endpoint " + server.endpoint() + "  path-style  profile site-c  (this site)"), listedC);
        assertEquals(Set.of("A", "B", "C", "D"), sites(bucketDir()));

        try (MountFixture fs = new MountFixture().withStorage(b.toString()).withMountArgs("--site", "B").mount()) {
            assertEquals("", fs.sh("ls -A"));
            fs.sh("echo hello > f; test \"$(cat f)\" = hello");
            fs.umount();
        }
        assertTrue(Files.isDirectory(b.resolve("journal/B")), "site B publishes its journal under journal/B");
    }

    @Test
    void badInputIsRefusedWithOneLineAndNothingWritten() throws Exception {
        Path x = root.resolve("x");
        Path empty = Files.createDirectories(root.resolve("empty"));
        Path other = root.resolve("other");
        ok("format", a.toString(), "--site", "A");
        ok("format", other.toString(), "--site", "O", "--name", "elsewhere");
        String before = snapshot(a) + snapshot(other) + snapshot(empty);

        oneLineFailure(cli("format", x.toString(), "--site", "B", "--join", empty.toString()),
                "file://" + empty + " holds no StrataFS volume; --join needs the storage of an existing site");
        oneLineFailure(cli("format", x.toString(), "--site", "A", "--join", a.toString()),
                "site name A is already taken in volume", "choose another --site");
        oneLineFailure(cli("format", other.toString(), "--site", "B", "--join", a.toString()),
                "file://" + other + " already holds another StrataFS volume, \"elsewhere\"");
        oneLineFailure(cli("format", x.toString(), "--site", "B", "--join", a.toString(), "--bogus"), "Unknown option: '--bogus'");
        oneLineFailure(cli(with(List.of("--endpoint", server.endpoint().toString(), "--path-style", "--profile", "nosuch"),
                "format", "s3://sitec/x", "--site", "B", "--join", a.toString())),
                "no credentials for bucket \"sitec\"", "the AWS profile \"nosuch\"");

        assertEquals(before, snapshot(a) + snapshot(other) + snapshot(empty));
        assertFalse(Files.exists(x), "a refused join left " + x + " behind");
        assertFalse(Files.exists(serverDir.resolve("sitec/x")), "a refused join wrote to the bucket");
    }
}
