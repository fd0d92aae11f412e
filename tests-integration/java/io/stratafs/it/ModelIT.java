package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A reference model run against the real mount: seeded random operations (writes at random offsets
 * across block boundaries, truncates, renames over existing files, hard links, unlinks of files
 * still open, directories) go both to the mount and to a map of paths to bytes, and after every
 * step the touched file, and at the end the whole tree (also after a remount from an empty cache
 * dir) must equal the model. A failure names the seed and the operations so far.
 */
class ModelIT {
    private static final int STEPS = 400;
    /** Small blocks so that a few KiB already cross block boundaries. */
    private static final String BLOCK = "64K";

    /** Model: path (relative) → contents; a hard link shares its byte holder. */
    private final Map<String, byte[][]> files = new TreeMap<>();
    private final TreeSet<String> dirs = new TreeSet<>(List.of(""));
    private final List<String> log = new ArrayList<>();
    /** Files opened and then unlinked: their channel and their content holder (shared with any other name left). */
    private final List<Map.Entry<FileChannel, byte[][]>> orphans = new ArrayList<>();

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void randomOperationsMatchTheModel(long seed) throws Exception {
        try (MountFixture fs = new MountFixture().format("--block-size", BLOCK).mount()) {
            Random rnd = new Random(seed);
            try {
                for (int step = 0; step < STEPS; step++) {
                    step(fs.mnt, rnd);
                }
                checkOrphans();
                checkTree(fs.mnt);
                for (Map.Entry<FileChannel, byte[][]> o : orphans) {
                    o.getKey().close();
                }
                orphans.clear();
                fs.remountWithEmptyCache();
                checkTree(fs.mnt);
            } catch (AssertionError | IOException e) {
                for (Map.Entry<FileChannel, byte[][]> o : orphans) {
                    o.getKey().close();
                }
                throw new AssertionError("seed " + seed + " failed after:\n  " + String.join("\n  ", tail(log)), e);
            }
        }
    }

    private static List<String> tail(List<String> l) {
        return l.subList(Math.max(0, l.size() - 40), l.size());
    }

    private void step(Path root, Random rnd) throws IOException {
        int op = rnd.nextInt(100);
        if (files.isEmpty() || op < 25) {
            write(root, pickDir(rnd) + "f" + rnd.nextInt(40), rnd);
        } else if (op < 45) {
            write(root, pickFile(rnd), rnd);
        } else if (op < 52) {
            truncate(root, pickFile(rnd), rnd);
        } else if (op < 62) {
            rename(root, pickFile(rnd), pickDir(rnd) + "f" + rnd.nextInt(40));
        } else if (op < 68) {
            link(root, pickFile(rnd), pickDir(rnd) + "h" + rnd.nextInt(20));
        } else if (op < 76) {
            unlink(root, pickFile(rnd), rnd.nextBoolean());
        } else if (op < 84) {
            mkdir(root, pickDir(rnd) + "d" + rnd.nextInt(6) + "/");
        } else if (op < 88) {
            rmdir(root, pickDir(rnd));
        } else {
            String p = pickFile(rnd);
            log.add("read " + p);
            assertArrayEquals(files.get(p)[0], Files.readAllBytes(root.resolve(p)), "content of " + p);
        }
    }

    private String pickFile(Random rnd) {
        List<String> names = new ArrayList<>(files.keySet());
        return names.get(rnd.nextInt(names.size()));
    }

    private String pickDir(Random rnd) {
        List<String> names = new ArrayList<>(dirs);
        return names.get(rnd.nextInt(names.size()));
    }

    private void write(Path root, String p, Random rnd) throws IOException {
        if (dirs.contains(p + "/")) {
            return;
        }
        byte[][] holder = files.computeIfAbsent(p, k -> new byte[][] {new byte[0]});
        byte[] old = holder[0];
        int offset = rnd.nextInt(old.length + 100_000);
        byte[] data = new byte[1 + rnd.nextInt(150_000)];
        rnd.nextBytes(data);
        log.add("write " + p + " at " + offset + " len " + data.length);
        try (FileChannel ch = FileChannel.open(root.resolve(p), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(data);
            while (b.hasRemaining()) {
                ch.write(b, offset + b.position());
            }
        }
        byte[] now = Arrays.copyOf(old, Math.max(old.length, offset + data.length));
        System.arraycopy(data, 0, now, offset, data.length);
        holder[0] = now;
        assertArrayEquals(now, Files.readAllBytes(root.resolve(p)), "content of " + p + " after the write");
    }

    private void truncate(Path root, String p, Random rnd) throws IOException {
        byte[][] holder = files.get(p);
        int size = rnd.nextInt(holder[0].length + 200_000);
        log.add("truncate " + p + " to " + size);
        try (FileChannel ch = FileChannel.open(root.resolve(p), StandardOpenOption.WRITE)) {
            if (size < ch.size()) {
                ch.truncate(size);
            } else if (size > ch.size()) {
                ch.write(ByteBuffer.wrap(new byte[1]), size - 1);
            }
        }
        holder[0] = Arrays.copyOf(holder[0], size);
        assertEquals(size, Files.size(root.resolve(p)), "size of " + p);
    }

    private void rename(Path root, String from, String to) throws IOException {
        if (from.equals(to) || dirs.contains(to + "/") || files.get(from) == files.get(to)) {
            return;
        }
        log.add("rename " + from + " -> " + to);
        Files.move(root.resolve(from), root.resolve(to), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        files.put(to, files.remove(from));
    }

    private void link(Path root, String existing, String name) throws IOException {
        if (files.containsKey(name) || dirs.contains(name + "/")) {
            return;
        }
        log.add("link " + existing + " as " + name);
        Files.createLink(root.resolve(name), root.resolve(existing));
        files.put(name, files.get(existing));
    }

    private void unlink(Path root, String p, boolean keepOpen) throws IOException {
        log.add("unlink " + p + (keepOpen ? " while open" : ""));
        FileChannel open = keepOpen ? FileChannel.open(root.resolve(p), StandardOpenOption.READ) : null;
        Files.delete(root.resolve(p));
        byte[][] holder = files.remove(p);
        if (open != null) {
            orphans.add(Map.entry(open, holder));
        }
        try {
            Files.readAttributes(root.resolve(p), "size");
            fail(p + " still exists after unlink");
        } catch (NoSuchFileException expected) {
            // gone, as it should be
        }
    }

    private void mkdir(Path root, String d) throws IOException {
        if (dirs.contains(d) || files.containsKey(d.substring(0, d.length() - 1))) {
            return;
        }
        log.add("mkdir " + d);
        Files.createDirectory(root.resolve(d));
        dirs.add(d);
    }

    private void rmdir(Path root, String d) throws IOException {
        if (d.isEmpty() || files.keySet().stream().anyMatch(f -> f.startsWith(d))
                || dirs.stream().anyMatch(x -> !x.equals(d) && x.startsWith(d))) {
            return;
        }
        log.add("rmdir " + d);
        Files.delete(root.resolve(d));
        dirs.remove(d);
    }

    /** Every file unlinked while open still reads its last content through its descriptor. */
    private void checkOrphans() throws IOException {
        for (Map.Entry<FileChannel, byte[][]> o : orphans) {
            byte[] expected = o.getValue()[0];
            FileChannel ch = o.getKey();
            assertEquals(expected.length, ch.size(), "size of an unlinked open file");
            ByteBuffer b = ByteBuffer.allocate(expected.length);
            while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
                // read it all
            }
            assertArrayEquals(expected, b.array(), "content of an unlinked open file");
        }
    }

    private void checkTree(Path root) throws IOException {
        TreeSet<String> seenFiles = new TreeSet<>();
        TreeSet<String> seenDirs = new TreeSet<>(List.of(""));
        walk(root, "", seenFiles, seenDirs);
        assertEquals(dirs, seenDirs, "directories");
        assertEquals(files.keySet(), seenFiles, "file names");
        for (Map.Entry<String, byte[][]> e : files.entrySet()) {
            assertArrayEquals(e.getValue()[0], Files.readAllBytes(root.resolve(e.getKey())), "content of " + e.getKey());
            long names = files.values().stream().filter(h -> h == e.getValue()).count();
            assertEquals(names, ((Number) Files.getAttribute(root.resolve(e.getKey()), "unix:nlink")).longValue(),
                    "link count of " + e.getKey());
        }
    }

    private static void walk(Path root, String rel, TreeSet<String> seenFiles, TreeSet<String> seenDirs) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root.resolve(rel))) {
            for (Path p : ds) {
                String name = rel + p.getFileName();
                if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    seenDirs.add(name + "/");
                    walk(root, name + "/", seenFiles, seenDirs);
                } else {
                    seenFiles.add(name);
                }
            }
        }
    }
}
