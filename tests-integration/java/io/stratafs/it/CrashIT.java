package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of the mount during heavy writes. Every file that was closed (or fsync'ed) before the kill
 * keeps exactly its content after the next mount; a file still open keeps every byte its last
 * acknowledged fsync covered; a file being rewritten at the kill, never closed nor fsync'ed, holds
 * page by page its new bytes or zeros, never garbage; pending uploads finish; a new machine (an
 * empty cache directory) then sees the same.
 */
class CrashIT {
    private static final int CLOSED_BEFORE_KILL = 40;
    private static final int FSYNCS_BEFORE_KILL = 5;
    private static final int REWRITES_BEFORE_KILL = 2;
    private static final int REWRITTEN_BYTES = 6_000_123;
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

    /**
     * Writes a source over one file (two blocks) again and again in 64 KiB pieces, never closing nor
     * fsync'ing it, so at the kill it is certainly open, dirty and most likely mid-write; logs each
     * pass. Every page of the file can only ever be the source's bytes (or zeros, if lost).
     */
    private static final String REWRITER = """
            import os, sys
            path, src, log = sys.argv[1:4]
            data = open(src, "rb").read()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            passes = 0
            while True:
                for at in range(0, len(data), 65536):
                    os.pwrite(fd, data[at:at + 65536], at)
                passes += 1
                with open(log, "a") as f:
                    f.write(f"{passes}\\n")
            """;

    @Test
    void closedAndFsyncedDataSurvivesKillNineAndUploadsResume() throws Exception {
        try (MountFixture fs = new MountFixture()) {
            fs.format().mount();
            Path closedLog = Files.createFile(fs.root.resolve("closed.log"));
            Path fsyncLog = Files.createFile(fs.root.resolve("fsync.log"));
            Path rewriteLog = Files.createFile(fs.root.resolve("rewrite.log"));
            byte[] source = new byte[REWRITTEN_BYTES];
            new Random(7).nextBytes(source);
            Files.write(fs.root.resolve("rewrite.src"), source);
            try (Shell.Background writer = Shell.background(fs.root, fs.root.resolve("writer.out"),
                    List.of("bash", "-c", CLOSING_WRITER.formatted(fs.root, fs.mnt, closedLog)));
                    Shell.Background appender = Shell.background(fs.root, fs.root.resolve("appender.out"),
                            List.of("python3", "-c", FSYNCING_APPENDER, fs.mnt.resolve("open-appended").toString(), fsyncLog.toString()));
                    Shell.Background rewriter = Shell.background(fs.root, fs.root.resolve("rewriter.out"),
                            List.of("python3", "-c", REWRITER, fs.mnt.resolve("rewritten").toString(),
                                    fs.root.resolve("rewrite.src").toString(), rewriteLog.toString()))) {
                List<Shell.Background> all = List.of(writer, appender, rewriter);
                Supplier<String> outputs = () -> "writer: " + writer.output() + "\nappender: " + appender.output() + "\nrewriter: " + rewriter.output() + fs.logTail();
                long deadline = System.currentTimeMillis() + DEADLINE_MS;
                while (Files.readAllLines(closedLog).size() < CLOSED_BEFORE_KILL || Files.readAllLines(fsyncLog).size() < FSYNCS_BEFORE_KILL
                        || Files.readAllLines(rewriteLog).size() < REWRITES_BEFORE_KILL) {
                    assertTrue(System.currentTimeMillis() < deadline, () -> "the writers made no progress: " + outputs.get());
                    assertTrue(all.stream().allMatch(Shell.Background::isAlive), () -> "a writer died early: " + outputs.get());
                    writer.waitFor(20, TimeUnit.MILLISECONDS);
                }
                assertTrue(all.stream().allMatch(Shell.Background::isAlive), () -> "the kill must hit running writers: " + outputs.get());
                fs.kill9();
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
            String torn = rewrittenFileIsNeverGarbage(fs);
            System.out.printf("CrashIT: %d closed files and %s fsync'ed bytes intact after kill -9; the file being rewritten: %s%n",
                    Files.readAllLines(closedLog).size(), lastFsync[0], torn);

            long deadline = System.currentTimeMillis() + DEADLINE_MS;
            while (fs.statusField("pendingBlocks") > 0 || fs.statusField("pendingJournalEntries") > 0) {
                assertTrue(System.currentTimeMillis() < deadline, "pending uploads did not finish: " + fs.statusJson());
                Thread.sleep(200);
            }
            fs.sh("head -c 3000000 /dev/urandom > after-crash; sha256sum after-crash >> " + closedLog);
            fs.remountWithEmptyCache();
            fs.sh(verify);
            assertEquals(torn, rewrittenFileIsNeverGarbage(fs), "the file being rewritten at the kill changed between machines");
            assertEquals(0, fs.statusField("dirtyBytes"));
            assertEquals(0, fs.statusField("pendingBlocks"));
        }
    }

    /**
     * The file the rewriter held open at the kill (its create was acknowledged long before, so it must
     * exist): each 4 KiB page holds its source's bytes or zeros, and it is no longer than the source.
     * Returns its length and checksum.
     */
    private static String rewrittenFileIsNeverGarbage(MountFixture fs) {
        return fs.sh("""
                python3 - rewritten %1$s/rewrite.src <<'PY'
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
