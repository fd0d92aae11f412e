package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code fstat} of a descriptor whose name went away while the file keeps other names: the link
 * count is the number of names left, as {@code stat} of a remaining name says. (Written when libfuse
 * 2's path API hid such a file under a {@code .fuse_hidden} name; the low-level API keeps it as it is.)
 */
class OpenNamesIT {
    /** Runs a python3 script in the mount and returns its output. */
    private static String python(MountFixture fs, String script) {
        Shell.Result r = Shell.run(fs.mnt, 60, List.of("python3", "-c", script));
        assertEquals(0, r.exit(), r.out());
        return r.out().strip();
    }

    @Test
    void fstatCountsTheNamesLeftAfterTheDescriptorsNameIsRenamedLinkedAndUnlinked() throws Exception {
        try (MountFixture fs = new MountFixture().format().mount()) {
            String out = python(fs, """
                    import os
                    open("A", "w").write("data")
                    os.link("A", "B")
                    fd = os.open("B", os.O_RDONLY)
                    os.rename("B", "C")
                    os.link("C", "D")
                    os.unlink("C")
                    print(os.stat("A").st_nlink, os.fstat(fd).st_nlink, os.stat("/proc/self/fd/%d" % fd).st_nlink)
                    os.unlink("D")
                    print(os.stat("A").st_nlink, os.fstat(fd).st_nlink)
                    os.unlink("A")
                    print(os.fstat(fd).st_nlink, os.fstat(fd).st_size, os.read(fd, 10).decode())
                    os.close(fd)
                    """);
            assertEquals("2 2 2\n1 1\n0 4 data", out, "stat A, fstat of the descriptor, stat through /proc/self/fd");
        }
    }

    @Test
    void fstatOfADescriptorWhoseNameWasUnlinkedCountsTheOtherName() throws Exception {
        try (MountFixture fs = new MountFixture().format().mount()) {
            String out = python(fs, """
                    import os
                    open("A", "w").write("x")
                    os.link("A", "B")
                    fd = os.open("B", os.O_RDWR)
                    os.unlink("B")
                    os.write(fd, b"yz")
                    print(os.stat("A").st_nlink, os.fstat(fd).st_nlink, os.fstat(fd).st_size, os.stat("A").st_size)
                    os.close(fd)
                    print(os.stat("A").st_nlink, open("A").read())
                    """);
            assertEquals("1 1 2 2\n1 yz", out);
        }
    }
}
