package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.stratafs.store.s3.S3ProxyServer;
import io.stratafs.testing.TempDirs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * mount(8) and fstab through the real helper: {@code mount -t stratafs} and {@code mount -T FSTAB}
 * run /sbin/mount.stratafs (mount(8) looks for helpers only there), which the class installs as a
 * symlink to mount-scripts/mount.stratafs and removes afterwards, putting back whatever was there.
 * Also a plain {@code umount}/{@code fusermount -u} (the daemon drains and exits) and who may use a
 * root mount (allow_other by default, the kernel checking permissions; noallow_other refuses others).
 */
class MountHelperIT {
    private static final Path HELPER = Paths.get("/sbin/mount.stratafs");
    private static final Path SOURCE = MountFixture.LAUNCHER.resolveSibling("mount.stratafs");
    private static Path saved;

    @BeforeAll
    static void installHelper() throws Exception {
        if (Files.exists(HELPER, LinkOption.NOFOLLOW_LINKS)) {
            saved = HELPER.resolveSibling(".mount.stratafs.saved-by-MountHelperIT");
            Files.move(HELPER, saved, StandardCopyOption.REPLACE_EXISTING);
        }
        Files.createSymbolicLink(HELPER, SOURCE);
    }

    @AfterAll
    static void restoreHelper() throws Exception {
        Files.deleteIfExists(HELPER);
        if (saved != null) {
            Files.move(saved, HELPER);
        }
    }

    /** Runs a command with an empty environment, as a boot-time mount sees it; stdout and stderr apart. */
    private static Shell.Split bare(String... command) {
        List<String> cmd = new ArrayList<>(List.of("env", "-i"));
        cmd.addAll(List.of(command));
        return Shell.runSplit(Paths.get("/tmp"), 300, cmd);
    }

    private static void ok(Shell.Split r, String what) {
        if (r.exit() != 0) {
            fail(what + " failed with exit " + r.exit() + ":\n" + r.stdout() + r.stderr());
        }
    }

    /** The fixture's root is 0700 from createTempDirectory; other users must reach the mountpoint in it. */
    private static MountFixture formatted() throws Exception {
        MountFixture fs = new MountFixture().format();
        Files.setPosixFilePermissions(fs.root, PosixFilePermissions.fromString("rwxr-xr-x"));
        return fs;
    }

    private static String mountOptions(MountFixture fs) throws Exception {
        for (String line : Files.readAllLines(Paths.get("/proc/mounts"), StandardCharsets.UTF_8)) {
            String[] f = line.split(" ");
            if (f[1].equals(fs.mnt.toString())) {
                assertEquals("fuse.stratafs", f[2], line);
                return f[3];
            }
        }
        throw new AssertionError(fs.mnt + " is not in /proc/mounts");
    }

    /** Waits for the daemon to exit after an unmount from outside; it uploads first. */
    private static void awaitExit(MountFixture fs, long pid) throws Exception {
        ProcessHandle.of(pid).ifPresent(p -> {
            try {
                p.onExit().get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                fail("the daemon " + pid + " did not exit within 60 s of the unmount" + fs.logTail());
            }
        });
        assertTrue(fs.daemons().isEmpty(), "a StrataFS process is left after the unmount" + fs.logTail());
        assertFalse(Files.exists(fs.cache.resolve("stratafs.pid")), "the daemon did not close cleanly" + fs.logTail());
    }

    private static long pid(MountFixture fs) throws Exception {
        return Long.parseLong(Files.readString(fs.cache.resolve("stratafs.pid")).trim());
    }

    @Test
    void mountTypeStratafsWithOptionsThenPlainUmountUploadsEverythingAndLeavesNoProcess() throws Exception {
        try (MountFixture fs = formatted()) {
            Shell.Split m = bare("/usr/bin/mount", "-t", "stratafs", fs.storage, fs.mnt.toString(),
                    "-o", "cache-dir=" + fs.cache + ",cache-size=1G,ram-cache=32M,upload-concurrency=2,stop-timeout=60,nosuid,allow_other");
            ok(m, "mount -t stratafs");
            assertEquals("", m.stdout() + m.stderr(), "mount(8) is silent on success");
            assertTrue(fs.isMounted(), "not mounted" + fs.logTail());
            assertTrue(mountOptions(fs).contains("nosuid") && mountOptions(fs).contains("allow_other"),
                    "a FUSE option did not reach the mount: " + mountOptions(fs));
            assertEquals(1L << 30, fs.statusField("cacheCapacityBytes"), "cache-size=1G did not reach the mount");

            byte[] data = new byte[(3 << 20) + 17];
            new Random(10).nextBytes(data);
            Files.write(fs.mnt.resolve("file"), data);
            long pid = pid(fs);
            ok(bare("/usr/bin/umount", fs.mnt.toString()), "umount");
            assertFalse(fs.isMounted());
            awaitExit(fs, pid);
            assertTrue(Files.readString(fs.cache.resolve("stratafs.log")).contains("every block and journal record is in every storage target"),
                    "the daemon did not drain before it exited" + fs.logTail());

            // a new machine (an empty cache) sees the file: it had reached the store before the daemon exited
            fs.cache = fs.root.resolve("cache-new");
            fs.mount();
            assertArrayEquals(data, Files.readAllBytes(fs.mnt.resolve("file")));
        }
    }

    /**
     * S3 options through -o, and a plain umount while the target is down: the daemon tries for
     * stop-timeout, exits naming what is pending, and the next mount of that cache uploads it.
     */
    @Test
    void plainUmountWithTheTargetDownKeepsThePendingDataForTheNextMount() throws Exception {
        Path serverDir = Files.createTempDirectory(Path.of("/tmp"), "stratafs-s3proxy-");
        try (S3ProxyServer server = S3ProxyServer.start(serverDir)) {
            server.createBucket("vol");
            try (MountFixture fs = new MountFixture().withStorage("s3://vol/helper", "--endpoint", server.endpoint().toString(), "--path-style")) {
                fs.env.put("AWS_ACCESS_KEY_ID", S3ProxyServer.ACCESS_KEY);
                fs.env.put("AWS_SECRET_ACCESS_KEY", S3ProxyServer.SECRET_KEY);
                fs.env.put("AWS_EC2_METADATA_DISABLED", "true");
                fs.format();
                List<String> mount = new ArrayList<>(List.of("env", "-i", "AWS_ACCESS_KEY_ID=" + S3ProxyServer.ACCESS_KEY,
                        "AWS_SECRET_ACCESS_KEY=" + S3ProxyServer.SECRET_KEY, "AWS_EC2_METADATA_DISABLED=true",
                        "/usr/bin/mount", "-t", "stratafs", fs.storage, fs.mnt.toString(), "-o", "cache-dir=" + fs.cache
                                + ",endpoint=" + server.endpoint() + ",path-style,region=us-east-1,stall-timeout=5,stop-timeout=3"));
                ok(Shell.runSplit(Paths.get("/tmp"), 300, mount), "mount -t stratafs s3://");
                server.stop();
                byte[] data = new byte[(2 << 20) + 5];
                new Random(11).nextBytes(data);
                Files.write(fs.mnt.resolve("while-down"), data);
                long pid = pid(fs);
                ok(bare("/usr/bin/umount", fs.mnt.toString()), "umount");
                awaitExit(fs, pid);
                String log = Files.readString(fs.cache.resolve("stratafs.log"));
                assertTrue(log.contains("ERROR MountedVolume - stopped with data not yet in the storage targets"),
                        "the log does not say what is pending" + fs.logTail());

                server.restartSamePort();
                ok(Shell.runSplit(Paths.get("/tmp"), 300, mount), "mount again");
                long deadline = System.currentTimeMillis() + 120_000;
                while (fs.statusField("pendingBlocks") > 0 || fs.statusField("pendingJournalEntries") > 0) {
                    assertTrue(System.currentTimeMillis() < deadline, "the pending data did not upload: " + fs.statusJson());
                    Thread.sleep(200);
                }
                assertArrayEquals(data, Files.readAllBytes(fs.mnt.resolve("while-down")));
            }
        } finally {
            TempDirs.delete(serverDir);
        }
    }

    @Test
    void anFstabLineWithNetdevAndSystemdOptionsMountsAndUmountCleansUp() throws Exception {
        try (MountFixture fs = formatted()) {
            Path fstab = fs.root.resolve("fstab");
            Files.writeString(fstab, "# test fstab\n" + fs.storage + " " + fs.mnt + " stratafs cache-dir=" + fs.cache
                    + ",cache-size=512M,_netdev,x-systemd.requires=network-online.target,nofail,comment=x-test,defaults 0 0\n");
            ok(bare("/usr/bin/mount", "-T", fstab.toString(), fs.mnt.toString()), "mount -T fstab");
            assertTrue(fs.isMounted(), "not mounted" + fs.logTail());
            assertEquals(512L << 20, fs.statusField("cacheCapacityBytes"));
            Files.writeString(fs.mnt.resolve("hello"), "hello\n");
            long pid = pid(fs);
            ok(bare("/usr/bin/umount", fs.mnt.toString()), "umount");
            awaitExit(fs, pid);
            assertFalse(Files.readString(Paths.get("/run/mount/utab")).contains(fs.mnt.toString()),
                    "umount left our entry in /run/mount/utab");
        }
    }

    @Test
    void fakeMountRunsNothingAndBadOptionsFailWithOneLineMountingNothing() throws Exception {
        try (MountFixture fs = formatted()) {
            Shell.Split fake = bare("/usr/bin/mount", "-f", "-v", "-t", "stratafs", fs.storage, fs.mnt.toString(),
                    "-o", "cache-dir=" + fs.cache + ",path-style,noallow_other");
            ok(fake, "mount -f");
            assertTrue(fake.stderr().contains("would run: ") && fake.stderr().contains("--cache-dir=" + fs.cache)
                    && fake.stderr().contains("--path-style --no-allow-other"), fake.stderr());
            assertFalse(fs.isMounted());

            String[][] bad = {
                {"cache-dir", "option cache-dir needs a value"},
                {"cache-dir=" + fs.cache + ",path-style=yes", "option path-style takes no value"},
                {"cache-dir=" + fs.cache + ",cache-size=lots", "lots"},
                {"cache-dir=" + fs.cache + ",no_such_fuse_option", "no_such_fuse_option"},
            };
            for (String[] c : bad) {
                Shell.Split r = bare("/usr/bin/mount", "-t", "stratafs", fs.storage, fs.mnt.toString(), "-o", c[0]);
                String both = "-o " + c[0] + "\nstdout:\n" + r.stdout() + "stderr:\n" + r.stderr() + fs.logTail();
                assertNotEquals(0, r.exit(), both);
                assertEquals(1, r.stderr().strip().lines().count(), "not one line on stderr: " + both);
                assertTrue(r.stderr().contains(c[1]), "expected \"" + c[1] + "\" in: " + both);
                assertFalse(fs.isMounted(), "mounted despite " + both);
                assertTrue(fs.daemons().isEmpty(), "a daemon is left after " + both);
            }
        }
    }

    @Test
    void rootMountsLetOtherUsersInWithKernelPermissionChecksUnlessNoallowOther() throws Exception {
        try (MountFixture fs = formatted()) {
            String opts = "cache-dir=" + fs.cache + ",cache-size=256M";
            ok(bare("/usr/bin/mount", "-t", "stratafs", fs.storage, fs.mnt.toString(), "-o", opts), "mount");
            assertTrue(mountOptions(fs).contains("allow_other") && mountOptions(fs).contains("default_permissions"), mountOptions(fs));
            fs.sh("echo shared > f && chmod 0644 f && mkdir -m 0777 pub");
            String mnt = fs.mnt.toString();

            Shell.Result read = asNobody("cat " + mnt + "/f");
            assertEquals(0, read.exit(), read.out());
            assertEquals("shared", read.out().trim());
            Shell.Result write = asNobody("echo more >> " + mnt + "/f");
            assertNotEquals(0, write.exit(), "nobody wrote a 0644 file of root's: " + write.out());
            assertTrue(write.out().contains("Permission denied"), write.out());
            Shell.Result create = asNobody("echo mine > " + mnt + "/pub/n && stat -c %u " + mnt + "/pub/n");
            assertEquals(0, create.exit(), create.out());
            assertEquals("65534", create.out().trim(), "the new file does not belong to nobody");

            long pid = pid(fs);
            ok(Shell.runSplit(Paths.get("/tmp"), 60, List.of("fusermount", "-u", mnt)), "fusermount -u");
            awaitExit(fs, pid);

            ok(bare("/usr/bin/mount", "-t", "stratafs", fs.storage, mnt, "-o", opts + ",noallow_other"), "mount noallow_other");
            assertFalse(mountOptions(fs).contains("allow_other"), mountOptions(fs));
            Shell.Result refused = asNobody("ls " + mnt);
            assertNotEquals(0, refused.exit(), refused.out());
            assertTrue(refused.out().contains("Permission denied"), refused.out());
            assertEquals("shared", Files.readString(fs.mnt.resolve("f")).trim(), "root itself lost access");
        }
    }

    private static Shell.Result asNobody(String script) {
        return Shell.run(Paths.get("/tmp"), 60, List.of("runuser", "-u", "nobody", "--", "sh", "-c", script));
    }
}
