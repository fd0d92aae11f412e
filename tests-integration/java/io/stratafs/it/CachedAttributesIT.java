package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * POSIX attributes through the low-level FUSE API with the kernel's attribute and entry caches on
 * (the default options): one kernel inode per file, so link counts, sizes and times are exact
 * through every name of a hard link right after a change through another; a file unlinked or
 * renamed over while open is served by its inode (fstat, read, write, ftruncate, fchmod) and freed
 * at its last close; no {@code .fuse_hidden} name ever appears.
 */
class CachedAttributesIT {
    /** Runs a python3 script in the mount and returns its output. */
    private static String python(MountFixture fs, String script) {
        Shell.Result r = Shell.run(fs.mnt, 60, List.of("python3", "-c", script));
        assertEquals(0, r.exit(), r.out() + fs.logTail());
        return r.out().strip();
    }

    @Test
    void linkCountsSizesAndTimesAreExactThroughBothNamesOfAHardLink() throws Exception {
        try (MountFixture fs = new MountFixture().format().mount()) {
            String out = python(fs, """
                    import os, time
                    open("A", "w").write("hello")
                    a0 = os.stat("A")
                    os.link("A", "B")
                    print(os.stat("A").st_nlink, os.stat("B").st_nlink)
                    time.sleep(0.01)
                    with open("B", "a") as f:
                        f.write(" world")
                    a1 = os.stat("A")
                    print(a1.st_size, os.stat("B").st_size, a1.st_mtime_ns > a0.st_mtime_ns, a1.st_ctime_ns > a0.st_ctime_ns)
                    os.truncate("A", 2)
                    print(os.stat("B").st_size, open("B").read())
                    os.chmod("B", 0o600)
                    print(oct(os.stat("A").st_mode & 0o777))
                    os.unlink("B")
                    print(os.stat("A").st_nlink, os.path.exists("B"))
                    os.link("A", "C")
                    os.rename("C", "D")
                    print(os.stat("A").st_nlink, os.stat("D").st_nlink, os.stat("A").st_ino == os.stat("D").st_ino)
                    """);
            assertEquals("2 2\n11 11 True True\n2 he\n0o600\n1 False\n2 2 True", out);
        }
    }

    @Test
    void anUnlinkedOpenFileIsServedByItsInodeAndFreedAtItsLastClose() throws Exception {
        try (MountFixture fs = new MountFixture().format().mount()) {
            String out = python(fs, """
                    import os
                    fd = os.open("gone", os.O_RDWR | os.O_CREAT, 0o644)
                    os.write(fd, b"x" * 8192)
                    os.unlink("gone")
                    st = os.fstat(fd)
                    print(st.st_nlink, st.st_size, os.path.exists("gone"), sorted(os.listdir(".")))
                    print(len(os.pread(fd, 100000, 0)))
                    os.pwrite(fd, b"tail", 8192)
                    print(os.fstat(fd).st_size, os.pread(fd, 4, 8192).decode())
                    os.ftruncate(fd, 100)
                    os.fchmod(fd, 0o600)
                    st = os.fstat(fd)
                    print(st.st_size, oct(st.st_mode & 0o777), len(os.pread(fd, 1000, 0)))
                    os.close(fd)
                    """);
            assertEquals("0 8192 False []\n8192\n8196 tail\n100 0o600 100", out);
            fs.remount();
            String log = Files.readString(fs.cache.resolve("stratafs.log"));
            assertFalse(log.contains("deleted while open"), "the file was left for the next mount instead of freed at its close:\n" + log);
        }
    }

    @Test
    void renameOverAnOpenFileKeepsItForItsReaderAndNoHiddenNameAppears() throws Exception {
        try (MountFixture fs = new MountFixture().format().mount()) {
            String out = python(fs, """
                    import os
                    open("target", "w").write("old content")
                    open("new", "w").write("new")
                    fd = os.open("target", os.O_RDONLY)
                    os.rename("new", "target")
                    st = os.fstat(fd)
                    print(st.st_nlink, st.st_size, os.pread(fd, 100, 0).decode(), open("target").read())
                    print(sorted(os.listdir(".")))
                    os.close(fd)
                    print(sorted(os.listdir(".")), os.stat("target").st_nlink)
                    """);
            assertEquals("0 11 old content new\n['target']\n['target'] 1", out);
            assertEquals("0", fs.sh("find . -name '.fuse_hidden*' | wc -l").trim());
        }
    }
}
