package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.store.s3.S3ProxyServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The per-file answer to "is this safe?" through a real mount on a real S3 server (S3Proxy on
 * 127.0.0.1), read with getfattr and {@code stratafs status PATH} while the server is down and
 * after it is back.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SyncedIT {
    private static final String ATTR = "user.stratafs.synced";
    private S3ProxyServer server;
    private int volumes;

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

    private MountFixture s3Fixture() throws Exception {
        MountFixture fs = new MountFixture().withStorage("s3://vol/synced" + (++volumes), "--endpoint", server.endpoint().toString(), "--path-style");
        fs.env.put("AWS_ACCESS_KEY_ID", S3ProxyServer.ACCESS_KEY);
        fs.env.put("AWS_SECRET_ACCESS_KEY", S3ProxyServer.SECRET_KEY);
        fs.env.put("AWS_EC2_METADATA_DISABLED", "true");
        return fs;
    }

    private static String synced(MountFixture fs, String path) {
        return fs.sh("getfattr --only-values -n " + ATTR + " " + path);
    }

    /** Polls the attribute until it reads {@code yes} (at most 120 s). */
    private static void awaitSynced(MountFixture fs, String path) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 120_000;
        String state = synced(fs, path);
        while (!state.equals("yes")) {
            assertTrue(System.currentTimeMillis() < deadline, path + " never became synced: " + state + fs.logTail());
            Thread.sleep(100);
            state = synced(fs, path);
        }
    }

    @Test
    void aFileWrittenDuringAnOutageReadsNoWithWhatIsPendingAndYesOnceTheServerIsBack() throws Exception {
        try (MountFixture fs = s3Fixture().format().mount()) {
            fs.sh("mkdir t && head -c 100000 /dev/urandom > t/old");
            awaitSynced(fs, "t/old");
            server.stop();
            try {
                fs.sh("head -c 3000000 /dev/urandom > t/new");
                String state = synced(fs, "t/new");
                assertTrue(state.matches("no: 1 block \\(2\\.9 MiB\\), [0-9]+ journal entr(y|ies) pending for target s3://vol/synced[0-9]+"),
                        "a new file while the server is down: " + state);
                assertEquals("yes", synced(fs, "t/old"), "a file written before the outage is still safe");

                Shell.Split file = MountFixture.cliSplit("status", fs.mnt.resolve("t/new").toString());
                assertEquals(3, file.exit(), "status of a pending file exits 3: " + file.stdout() + file.stderr());
                assertEquals(fs.mnt.resolve("t/new") + ": " + state, file.stdout().strip());

                Shell.Split tree = MountFixture.cliSplit("status", fs.mnt.resolve("t").toString(), "--json");
                assertEquals(3, tree.exit(), tree.stdout() + tree.stderr());
                String checked = fs.sh("""
                        python3 -c 'import json, sys
                        s = json.loads(sys.argv[1])
                        assert (s["type"], s["synced"], s["files"], s["filesSynced"], s["filesPending"]) == ("directory", False, 2, 1, 1), s
                        assert s["bytesPending"] == 3000000 and s["journalEntriesPending"] >= 1, s
                        assert sorted(p["path"] for p in s["pending"]) == ["/t", "/t/new"], s["pending"]
                        print("ok")' '%s'
                        """.formatted(tree.stdout().strip()));
                assertEquals("ok", checked.strip());
                String human = MountFixture.cliSplit("status", fs.mnt.resolve("t").toString()).stdout();
                assertTrue(human.startsWith(fs.mnt.resolve("t") + ": no: 1 of 2 files and 1 of 1 directory pending; 2.9 MiB and "),
                        human);
                assertTrue(human.contains("\n  " + fs.mnt.resolve("t/new") + ": no: 1 block"), human);
            } finally {
                server.restartSamePort();
            }
            awaitSynced(fs, "t/new");
            awaitSynced(fs, "t");
            Shell.Split after = MountFixture.cliSplit("status", fs.mnt.resolve("t").toString());
            assertEquals(0, after.exit(), after.stdout() + after.stderr());
            assertEquals(fs.mnt.resolve("t") + ": yes: 2 files and 1 directory, all in every target", after.stdout().strip());
        }
    }

    @Test
    void theAttributeIsNotListedSoCopiesDoNotCarryItAndCannotBeSet() throws Exception {
        try (MountFixture fs = new MountFixture().format().mount()) {
            fs.sh("echo data > f && setfattr -n user.note -v kept f");
            String listed = fs.sh("getfattr -d -m - f");
            assertTrue(listed.contains("user.note") && !listed.contains(ATTR), listed);
            String copy = fs.root.resolve("copy").toString();
            fs.sh("cp --preserve=all f " + copy + " && rsync -X f " + copy + ".rsync && tar --xattrs -cf " + copy + ".tar f");
            String copied = fs.sh("getfattr -d -m - " + copy + " " + copy + ".rsync; tar --xattrs -tvvf " + copy + ".tar");
            assertFalse(copied.contains(ATTR), copied);
            String set = fs.sh("setfattr -n " + ATTR + " -v yes f 2>&1 || echo refused");
            assertTrue(set.contains("Operation not permitted") && set.contains("refused"), set);
            String removed = fs.sh("setfattr -x " + ATTR + " f 2>&1 || echo refused");
            assertTrue(removed.contains("Operation not permitted") && removed.contains("refused"), removed);
        }
    }
}
