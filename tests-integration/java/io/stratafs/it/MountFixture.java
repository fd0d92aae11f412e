package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A formatted volume in a temporary directory (store/, cache/, mnt/) driven through the real
 * launcher. {@link #close()} always unmounts and deletes everything, also after a failed test.
 */
final class MountFixture implements AutoCloseable {
    static final Path LAUNCHER = Paths.get(System.getProperty("stratafs.launcher", "mount-scripts/stratafs")).toAbsolutePath();

    final Path root;
    final Path mnt;
    String storage;
    Path cache;
    private final List<String> extraMountArgs = new ArrayList<>();
    private final List<String> storageArgs = new ArrayList<>();
    final java.util.Map<String, String> env = new java.util.HashMap<>();
    private int cacheGeneration;

    MountFixture() throws IOException {
        root = Files.createTempDirectory(Paths.get("/tmp"), "stratafs-it-");
        mnt = Files.createDirectories(root.resolve("mnt"));
        storage = Files.createDirectories(root.resolve("store")).toString();
        cache = root.resolve("cache-0");
    }

    /** Uses other storage (e.g. s3://bucket/prefix) with the options to reach it, for format and mount. */
    MountFixture withStorage(String storage, String... args) {
        this.storage = storage;
        storageArgs.addAll(List.of(args));
        return this;
    }

    MountFixture withMountArgs(String... args) {
        extraMountArgs.addAll(List.of(args));
        return this;
    }

    /** Runs the launcher; returns the result without judging it. */
    static Shell.Result cli(String... args) {
        List<String> cmd = Shell.command(LAUNCHER.toString());
        cmd.addAll(List.of(args));
        return Shell.run(Paths.get("/tmp"), 300, cmd);
    }

    /** Runs the launcher with this fixture's environment. */
    Shell.Result run(String... args) {
        List<String> cmd = Shell.command(LAUNCHER.toString());
        cmd.addAll(List.of(args));
        return Shell.run(Paths.get("/tmp"), 300, cmd, env);
    }

    String runOk(String... args) {
        Shell.Result r = run(args);
        if (r.exit() != 0) {
            fail("stratafs " + String.join(" ", args) + " failed with exit " + r.exit() + ":\n" + r.out());
        }
        return r.out();
    }

    static String ok(String... args) {
        Shell.Result r = cli(args);
        if (r.exit() != 0) {
            fail("stratafs " + String.join(" ", args) + " failed with exit " + r.exit() + ":\n" + r.out());
        }
        return r.out();
    }

    MountFixture format(String... args) {
        List<String> all = new ArrayList<>(List.of("format", storage));
        all.addAll(storageArgs);
        all.addAll(List.of(args));
        runOk(all.toArray(new String[0]));
        return this;
    }

    /** The arguments of a mount of this fixture's storage at its mountpoint and cache. */
    List<String> mountArgs() {
        List<String> args = new ArrayList<>(List.of("mount", storage, mnt.toString(), "--cache-dir", cache.toString()));
        args.addAll(storageArgs);
        args.addAll(extraMountArgs);
        return args;
    }

    MountFixture mount() {
        runOk(mountArgs().toArray(new String[0]));
        assertTrue(isMounted(), "mount returned but " + mnt + " is not in /proc/mounts");
        return this;
    }

    void umount() {
        runOk("umount", mnt.toString());
        assertTrue(!isMounted(), mnt + " is still mounted after umount");
    }

    void remount() {
        umount();
        mount();
    }

    /** Unmounts and mounts the same storage with a brand-new cache directory (a new machine). */
    void remountWithEmptyCache() {
        umount();
        cache = root.resolve("cache-" + (++cacheGeneration));
        mount();
    }

    boolean isMounted() {
        try {
            String want = mnt.toString();
            for (String line : Files.readAllLines(Paths.get("/proc/mounts"))) {
                String[] f = line.split(" ");
                if (f.length > 2 && f[1].equals(want) && f[2].startsWith("fuse")) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    long daemonPid() {
        try {
            return Long.parseLong(Files.readString(cache.resolve("stratafs.pid"), StandardCharsets.UTF_8).trim());
        } catch (IOException e) {
            throw new AssertionError("no pid file in " + cache, e);
        }
    }

    /** kill -9 of the mount process; waits until the process is gone. */
    void kill9() {
        long pid = daemonPid();
        ProcessHandle handle = ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("no process " + pid));
        assertEquals(0, Shell.run(root, 30, List.of("kill", "-9", Long.toString(pid))).exit());
        handle.onExit().join();
    }

    String sh(String script) {
        return Shell.bash(mnt, script);
    }

    String sh(long timeoutSeconds, String script) {
        return Shell.bash(mnt, timeoutSeconds, script);
    }

    String statusJson() {
        return runOk("status", mnt.toString(), "--json");
    }

    /** A numeric field of the status JSON (the first occurrence, which is the volume-wide figure). */
    long statusField(String name) {
        String json = statusJson();
        int at = json.indexOf("\"" + name + "\":");
        assertTrue(at >= 0, "status has no field " + name + ": " + json);
        int start = at + name.length() + 3;
        int end = start;
        while (end < json.length() && Character.isDigit(json.charAt(end))) {
            end++;
        }
        return Long.parseLong(json.substring(start, end));
    }

    @Override
    public void close() {
        if (isMounted()) {
            Shell.Result r = run("umount", mnt.toString(), "--timeout", "60");
            if (r.exit() != 0 || isMounted()) {
                Shell.run(root, 60, List.of("fusermount", "-u", "-z", mnt.toString()));
            }
        }
        if (Files.exists(cache.resolve("stratafs.pid"))) {
            try {
                ProcessHandle.of(daemonPid()).ifPresent(p -> {
                    p.destroy();
                    p.onExit().join();
                });
            } catch (AssertionError | NumberFormatException ignored) {
                // the process is gone already
            }
        }
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new AssertionError("cannot remove " + root, e);
        }
    }
}
