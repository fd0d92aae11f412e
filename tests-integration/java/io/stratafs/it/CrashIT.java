package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of the mount during heavy writes. Every file that was closed (or fsync'ed) before the kill
 * keeps exactly its content after the next mount; a file still open keeps every byte its last
 * acknowledged fsync covered; a file caught half-written holds, page by page, its new bytes or
 * zeros, never garbage; pending uploads finish; a new machine (an empty cache directory) then sees
 * the same.
 */
class CrashIT {
    private static final int CLOSED_BEFORE_KILL = 40;
    private static final int FSYNCS_BEFORE_KILL = 5;
    private static final long DEADLINE_MS = 120_000;

    /** Writes f1, f2, ... (every third with dd conv=fsync); logs "sha256  fN" only after the file was closed. */
    private static final String CLOSING_WRITER = """
            i=0
            while true; do
              i=$((i+1)); src=%1$s/w.src
              head -c $(( (i %% 7 + 1) * 900000 )) /dev/urandom > $src; echo $i > %1$s/w.current
              if [ $((i %% 3)) = 0 ]; then dd if=$src of=%2$s/f$i bs=1M conv=fsync status=none || exit 0
              else cp $src %2$s/f$i || exit 0; fi
              echo "$(sha256sum < $src | cut -d' ' -f1)  f$i" >> %3$s
            done
            """;

    /** Appends to one file that stays open; after each fsync returns, logs "length sha256-of-that-prefix". */
    private static final String FSYNCING_APPENDER = """
            import hashlib, os, sys
            path, log = sys.argv[1], sys.argv[2]
            h = hashlib.sha256(); n = 0
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            while True:
                for _ in range(3):
                    chunk = os.urandom(700_001)
                    os.write(fd, chunk); h.update(chunk); n += len(chunk)
                os.fsync(fd)
                with open(log, "a") as f:
                    f.write(f"{n} {h.hexdigest()}\\n")
            """;

    @Test
    void closedAndFsyncedDataSurvivesKillNineAndUploadsResume() throws Exception {
        try (MountFixture fs = new MountFixture()) {
            fs.format().mount();
            Path closedLog = Files.createFile(fs.root.resolve("closed.log"));
            Path fsyncLog = Files.createFile(fs.root.resolve("fsync.log"));
            Path writerOut = fs.root.resolve("writers.out");
            Process writer = new ProcessBuilder("bash", "-c", CLOSING_WRITER.formatted(fs.root, fs.mnt, closedLog))
                    .redirectErrorStream(true).redirectOutput(writerOut.toFile()).start();
            Process appender = new ProcessBuilder("python3", "-c", FSYNCING_APPENDER, fs.mnt.resolve("open-appended").toString(),
                    fsyncLog.toString()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(writerOut.toFile())).start();
            try {
                long deadline = System.currentTimeMillis() + DEADLINE_MS;
                while (Files.readAllLines(closedLog).size() < CLOSED_BEFORE_KILL || Files.readAllLines(fsyncLog).size() < FSYNCS_BEFORE_KILL) {
                    assertTrue(System.currentTimeMillis() < deadline, "the writers made no progress: " + Files.readString(writerOut));
                    assertTrue(writer.isAlive() && appender.isAlive(), "a writer died early: " + Files.readString(writerOut));
                    writer.waitFor(20, TimeUnit.MILLISECONDS);
                }
                awaitAFileBeingWritten(fs, closedLog);
                assertTrue(writer.isAlive() && appender.isAlive(), "the kill must hit running writers");
                fs.kill9();
            } finally {
                for (Process p : List.of(writer, appender)) {
                    p.destroyForcibly();
                    p.waitFor();
                }
            }
            List<String> fsyncs = Files.readAllLines(fsyncLog);
            String[] lastFsync = fsyncs.get(fsyncs.size() - 1).split(" ");
            assertTrue(fs.isMounted(), "the dead daemon's mount should still be listed until the next mount clears it");

            String remount = fs.runOk(fs.mountArgs().toArray(new String[0]));
            assertTrue(fs.isMounted());
            assertTrue(remount.contains("cleared a stale mount"), "the stale FUSE mount was not reported: " + remount);
            String verify = """
                    sha256sum --quiet -c %1$s
                    test "$(head -c %2$s open-appended | sha256sum | cut -d' ' -f1)" = %3$s
                    """.formatted(closedLog, lastFsync[0], lastFsync[1]);
            fs.sh(verify);
            String torn = halfWrittenFileIsNeverGarbage(fs);
            System.out.printf("CrashIT: %d closed files and %s fsync'ed bytes intact after kill -9; the half-written file: %s%n",
                    Files.readAllLines(closedLog).size(), lastFsync[0], torn);

            long deadline = System.currentTimeMillis() + DEADLINE_MS;
            while (fs.statusField("pendingBlocks") > 0 || fs.statusField("pendingJournalEntries") > 0) {
                assertTrue(System.currentTimeMillis() < deadline, "pending uploads did not finish: " + fs.statusJson());
                Thread.sleep(200);
            }
            fs.sh("head -c 3000000 /dev/urandom > after-crash; sha256sum after-crash >> " + closedLog);
            fs.remountWithEmptyCache();
            fs.sh(verify);
            assertEquals(torn, halfWrittenFileIsNeverGarbage(fs), "the half-written file changed between machines");
            assertEquals(0, fs.statusField("dirtyBytes"));
            assertEquals(0, fs.statusField("pendingBlocks"));
        }
    }

    /**
     * Waits (at most 30 s, then gives up seeking) until the closing writer is past the first 4 MiB
     * block of a file it has not closed yet, so that the kill is likely to tear a multi-block file.
     */
    private static void awaitAFileBeingWritten(MountFixture fs, Path closedLog) throws Exception {
        Path current = fs.root.resolve("w.current");
        long deadline = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < deadline) {
            String n = Files.exists(current) ? Files.readString(current).trim() : "";
            Path f = fs.mnt.resolve("f" + n);
            if (!n.isEmpty() && Integer.parseInt(n) > Files.readAllLines(closedLog).size() && Files.exists(f)
                    && Files.size(f) > (4 << 20) + 100_000) {
                return;
            }
            Thread.onSpinWait();
        }
    }

    /**
     * The file the closing writer had open at the kill (if it got created): each 4 KiB page holds its
     * source's bytes or zeros, and its length is at most the source's. Returns its length and checksum.
     */
    private static String halfWrittenFileIsNeverGarbage(MountFixture fs) {
        return fs.sh("""
                n=$(cat %1$s/w.current)
                if [ ! -e f$n ]; then echo "none (f$n was not created)"; exit 0; fi
                if grep -q "  f$n\\$" %1$s/closed.log; then echo "none (f$n was closed)"; exit 0; fi
                python3 - f$n %1$s/w.src <<'PY'
                import sys, hashlib
                got, src = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
                assert len(got) <= len(src), f"{sys.argv[1]} is {len(got)} bytes, longer than its source ({len(src)})"
                P = 4096
                for at in range(0, len(got), P):
                    page = got[at:at + P]
                    assert page == src[at:at + len(page)] or page == bytes(len(page)), f"garbage in the page at {at} of {sys.argv[1]}"
                print(len(got), hashlib.sha256(got).hexdigest())
                PY
                """.formatted(fs.root)).trim();
    }
}
