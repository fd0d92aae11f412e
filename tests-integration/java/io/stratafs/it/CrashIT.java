package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of the mount during heavy writes: every file that was closed (or fsync'ed) before the kill
 * keeps exactly its content after the next mount, pending uploads finish, and a new machine (an
 * empty cache directory) then sees the same.
 */
class CrashIT {
    private static final int CLOSED_BEFORE_KILL = 40;

    @Test
    void closedFilesSurviveKillNineAndUploadsResume() throws Exception {
        try (MountFixture fs = new MountFixture().format().mount()) {
            Path log = fs.root.resolve("closed.log");
            Files.createFile(log);
            // The writer records a file's checksum only after the write returned and the file was closed.
            Process writer = new ProcessBuilder("bash", "-c", """
                    i=0
                    while true; do
                      i=$((i+1)); src=%1$s/w.src
                      head -c $(( (i %% 7 + 1) * 900000 )) /dev/urandom > $src
                      if [ $((i %% 3)) = 0 ]; then dd if=$src of=%2$s/f$i bs=1M conv=fsync status=none || exit 0
                      else cp $src %2$s/f$i || exit 0; fi
                      echo "$(sha256sum < $src | cut -d' ' -f1)  f$i" >> %3$s
                    done
                    """.formatted(fs.root, fs.mnt, log)).redirectErrorStream(true).start();
            try {
                long deadline = System.currentTimeMillis() + 120_000;
                while (Files.readAllLines(log).size() < CLOSED_BEFORE_KILL) {
                    assertTrue(System.currentTimeMillis() < deadline, "the writer made no progress");
                    assertTrue(writer.isAlive(), "the writer died early");
                    writer.waitFor(20, TimeUnit.MILLISECONDS);
                }
                fs.kill9();
            } finally {
                writer.destroyForcibly();
                writer.waitFor();
            }
            List<String> closed = Files.readAllLines(log);
            assertTrue(closed.size() >= CLOSED_BEFORE_KILL);
            String remount = fs.runOk(fs.mountArgs().toArray(new String[0]));
            assertTrue(fs.isMounted());
            assertTrue(remount.contains("cleared a stale mount"), "the stale FUSE mount was not reported: " + remount);
            fs.sh("sha256sum --quiet -c " + log);

            long deadline = System.currentTimeMillis() + 120_000;
            while (fs.statusField("pendingBlocks") > 0 || fs.statusField("pendingJournalEntries") > 0) {
                assertTrue(System.currentTimeMillis() < deadline, "pending uploads did not finish: " + fs.statusJson());
                Thread.sleep(200);
            }
            fs.remountWithEmptyCache();
            fs.sh("sha256sum --quiet -c " + log);
            assertEquals(0, fs.statusField("dirtyBytes"));
        }
    }
}
