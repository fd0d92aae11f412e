package io.stratafs.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * The pid file a serving daemon keeps in its cache directory. After a plain {@code umount} the
 * daemon goes on uploading for up to --stop-timeout; a second daemon on the same LMDB environment
 * would upload and journal beside it, so a mount refuses a cache directory whose daemon still runs.
 */
final class DaemonPidFile {
    static final String NAME = "stratafs.pid";

    private DaemonPidFile() {
    }

    static void refuseIfLive(Path cacheDir) throws IOException {
        Path file = cacheDir.resolve(NAME);
        if (!Files.exists(file)) {
            return;
        }
        long pid;
        try {
            pid = Long.parseLong(Files.readString(file, StandardCharsets.UTF_8).trim());
        } catch (NumberFormatException e) {
            return;
        }
        if (pid != ProcessHandle.current().pid() && isStrataFs(pid)) {
            throw new IllegalStateException("cache directory " + cacheDir + " is still in use by StrataFS process " + pid
                    + " (it may be finishing its uploads after an unmount; wait for it to exit, see its log)");
        }
    }

    /** A pid file left by kill -9 may name a pid reused by another program: check the command line too. */
    private static boolean isStrataFs(long pid) {
        try {
            String cmdline = new String(Files.readAllBytes(Paths.get("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8);
            return cmdline.contains("stratafs");
        } catch (IOException e) {
            return false;
        }
    }
}
