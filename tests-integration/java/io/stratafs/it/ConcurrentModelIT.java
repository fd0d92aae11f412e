package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The reference model with several workers at once, each in its own subtree of one mount. Besides
 * writes, links, renames over existing names and unlinks, a worker keeps descriptors open in a
 * python3 child (so {@code fstat} is the real system call on a descriptor that outlives the names
 * it was opened by), writes through them, and checks size, link count and content by {@code fstat}
 * while the file's names are renamed and removed; it closes a file and at once opens and
 * {@code fstat}s it again (the kernel's RELEASE is asynchronous, so this races with the next OPEN).
 * A failure names the seed, the worker and its last operations.
 */
class ConcurrentModelIT {
    private static final int WORKERS = 4;
    private static final int STEPS = 200;
    private static final int MAX_OPEN = 6;
    private static final String BLOCK = "64K";
    private static final long DEADLINE_SECONDS = 120;

    /** Reads commands on stdin, answers one line each; a failed call answers "err ERRNO". */
    private static final String FD_HOLDER = """
            import os, sys, hashlib
            def pattern(seed, n):
                return bytes((seed * 131 + i * 7 + (i >> 8)) & 0xff for i in range(n))
            for line in sys.stdin:
                a = line.split()
                try:
                    if a[0] == "open":
                        r = str(os.open(a[1], os.O_RDWR))
                    elif a[0] == "fstat":
                        st = os.fstat(int(a[1]))
                        r = "%d %d" % (st.st_size, st.st_nlink)
                    elif a[0] == "pwrite":
                        fd, off, n, seed = map(int, a[1:])
                        d = pattern(seed, n)
                        while d:
                            k = os.pwrite(fd, d, off)
                            d, off = d[k:], off + k
                        r = "ok"
                    elif a[0] == "sha":
                        fd, h, off = int(a[1]), hashlib.sha256(), 0
                        while True:
                            b = os.pread(fd, 1 << 20, off)
                            if not b:
                                break
                            h.update(b)
                            off += len(b)
                        r = h.hexdigest()
                    elif a[0] == "churn":
                        path, n, off, size, seed = a[1], *map(int, a[2:])
                        sizes = []
                        for i in range(n):
                            fd = os.open(path, os.O_RDWR)
                            os.pwrite(fd, pattern(seed + i, size), off + i * size)
                            sizes.append(str(os.fstat(fd).st_size))
                            os.close(fd)
                        r = " ".join(sizes)
                    elif a[0] == "close":
                        os.close(int(a[1]))
                        r = "ok"
                    else:
                        r = "err 0 unknown command"
                except OSError as e:
                    r = "err %d %s" % (e.errno, e.strerror)
                print(r, flush=True)
            """;

    @ParameterizedTest
    @ValueSource(longs = {11, 12})
    void concurrentWorkersMatchTheModel(long seed) throws Exception {
        try (MountFixture fs = new MountFixture().format("--block-size", BLOCK).mount()) {
            List<Worker> workers = new ArrayList<>();
            ExecutorService pool = Executors.newFixedThreadPool(WORKERS);
            try {
                for (int w = 0; w < WORKERS; w++) {
                    workers.add(new Worker(fs.mnt, w, new Random(seed * 1000 + w)));
                }
                List<Future<Void>> done = new ArrayList<>();
                for (Worker w : workers) {
                    done.add(pool.submit(w::run));
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DEADLINE_SECONDS);
                for (int w = 0; w < WORKERS; w++) {
                    try {
                        done.get(w).get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                    } catch (ExecutionException e) {
                        throw new AssertionError("seed " + seed + ", worker " + w + " failed after:\n  "
                                + String.join("\n  ", workers.get(w).lastOps()), e.getCause());
                    } catch (TimeoutException e) {
                        StringBuilder all = new StringBuilder();
                        for (Worker x : workers) {
                            all.append("\nworker ").append(x.id).append(":\n  ").append(String.join("\n  ", x.lastOps()));
                        }
                        throw new AssertionError("seed " + seed + ": workers still busy after " + DEADLINE_SECONDS + " s" + all);
                    }
                }
                for (Worker w : workers) {
                    w.closeAllChecked();
                    w.stop();
                }
                Map<String, byte[][]> model = new TreeMap<>();
                for (Worker w : workers) {
                    model.putAll(w.names);
                }
                checkTree(fs.mnt, model, seed);
                fs.remountWithEmptyCache();
                checkTree(fs.mnt, model, seed);
            } finally {
                pool.shutdownNow();
                for (Worker w : workers) {
                    w.stop();
                }
            }
        }
    }

    private static byte[] pattern(int seed, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) ((seed * 131 + i * 7 + (i >> 8)) & 0xff);
        }
        return b;
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static void checkTree(Path root, Map<String, byte[][]> model, long seed) throws IOException {
        TreeSet<String> seen = new TreeSet<>();
        walk(root, "", seen);
        assertEquals(new TreeSet<>(model.keySet()), seen, "seed " + seed + ": file names");
        for (Map.Entry<String, byte[][]> e : model.entrySet()) {
            Path p = root.resolve(e.getKey());
            assertArrayEquals(e.getValue()[0], Files.readAllBytes(p), "seed " + seed + ": content of " + e.getKey());
            long names = model.values().stream().filter(h -> h == e.getValue()).count();
            assertEquals(names, ((Number) Files.getAttribute(p, "unix:nlink")).longValue(), "seed " + seed + ": link count of " + e.getKey());
        }
    }

    private static void walk(Path root, String rel, TreeSet<String> seen) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root.resolve(rel))) {
            for (Path p : ds) {
                String name = rel + p.getFileName();
                if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    walk(root, name + "/", seen);
                } else {
                    seen.add(name);
                }
            }
        }
    }

    /**
     * A descriptor: its file's content holder and the kernel inode it reads through. Once the file
     * was written through another kernel inode, this one's page cache may hold stale pages (see
     * docs/SEMANTICS.md), so its content is no longer checked; size and link count still are.
     */
    private static final class Fd {
        final byte[][] content;
        final Object node;
        boolean stale;

        Fd(byte[][] content, Object node) {
            this.content = content;
            this.node = node;
        }
    }

    /** One worker: its subtree {@code wN/} with two subdirectories, its model, its descriptors. */
    private static final class Worker {
        final int id;
        private final Path root;
        private final Random rnd;
        private final List<String> dirs;
        /** Relative path → content holder; names of one inode share the holder. */
        final Map<String, byte[][]> names = new TreeMap<>();
        /**
         * Name → its kernel inode. libfuse 2's path API gives each name of a file its own kernel
         * inode, which a rename moves along and an unlink leaves to the descriptors still on it.
         */
        private final Map<String, Object> nodes = new TreeMap<>();
        /** Open descriptors in the python child. */
        private final Map<Integer, Fd> fds = new LinkedHashMap<>();
        private final List<String> log = Collections.synchronizedList(new ArrayList<>());
        private final Process holder;
        private final Writer toHolder;
        private final BufferedReader fromHolder;

        Worker(Path root, int id, Random rnd) throws IOException {
            this.id = id;
            this.root = root;
            this.rnd = rnd;
            String top = "w" + id + "/";
            dirs = List.of(top, top + "a/", top + "b/");
            for (String d : dirs) {
                Files.createDirectories(root.resolve(d));
            }
            // not started inside the mount: its working directory would keep the mount busy
            holder = new ProcessBuilder("python3", "-u", "-c", FD_HOLDER).directory(new java.io.File("/"))
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            toHolder = new OutputStreamWriter(holder.getOutputStream(), StandardCharsets.UTF_8);
            fromHolder = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
        }

        List<String> lastOps() {
            synchronized (log) {
                return new ArrayList<>(log.subList(Math.max(0, log.size() - 40), log.size()));
            }
        }

        void stop() {
            holder.destroyForcibly();
            try {
                holder.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private String ask(String command) throws IOException {
            toHolder.write(command + "\n");
            toHolder.flush();
            String answer = fromHolder.readLine();
            if (answer == null) {
                fail("the python descriptor holder exited during: " + command);
            }
            if (answer.startsWith("err ")) {
                fail(command + " failed: " + answer);
            }
            return answer;
        }

        Void run() throws IOException {
            for (int step = 0; step < STEPS; step++) {
                step();
            }
            return null;
        }

        private void step() throws IOException {
            int op = rnd.nextInt(100);
            if (names.isEmpty() || op < 18) {
                write(newName());
            } else if (op < 28) {
                write(pickName());
            } else if (op < 38) {
                openFd(pickName());
            } else if (op < 48) {
                writeThroughFd();
            } else if (op < 56) {
                closeFd();
            } else if (op < 64) {
                link(pickName(), newName());
            } else if (op < 76) {
                rename(pickName(), newName());
            } else if (op < 86) {
                unlink(pickName());
            } else if (op < 90) {
                churn(pickName());
            } else if (op < 94) {
                log.add("check every open fd");
                for (Map.Entry<Integer, Fd> e : fds.entrySet()) {
                    checkFd(e.getKey(), e.getValue(), true);
                }
            } else {
                String p = pickName();
                log.add("read " + p);
                assertArrayEquals(names.get(p)[0], Files.readAllBytes(root.resolve(p)), "content of " + p);
            }
        }

        private String newName() {
            return dirs.get(rnd.nextInt(dirs.size())) + "f" + rnd.nextInt(12);
        }

        private String pickName() {
            List<String> all = new ArrayList<>(names.keySet());
            return all.get(rnd.nextInt(all.size()));
        }

        private long linkCount(byte[][] content) {
            return names.values().stream().filter(h -> h == content).count();
        }

        /** Writes through a fresh descriptor, closes it, and at once opens the file again and fstats it. */
        private void write(String p) throws IOException {
            byte[][] content = names.computeIfAbsent(p, k -> new byte[][] {new byte[0]});
            nodes.computeIfAbsent(p, k -> new Object());
            int offset = rnd.nextInt(content[0].length + 70_000);
            int seed = rnd.nextInt(1_000_000);
            byte[] data = pattern(seed, 1 + rnd.nextInt(100_000));
            log.add("write " + p + " at " + offset + " len " + data.length);
            try (FileChannel ch = FileChannel.open(root.resolve(p), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(data);
                while (b.hasRemaining()) {
                    ch.write(b, offset + b.position());
                }
            }
            byte[] now = Arrays.copyOf(content[0], Math.max(content[0].length, offset + data.length));
            System.arraycopy(data, 0, now, offset, data.length);
            content[0] = now;
            writtenThrough(content, nodes.get(p));
            try (FileChannel again = FileChannel.open(root.resolve(p), StandardOpenOption.READ)) {
                assertEquals(now.length, again.size(), "fstat size of " + p + " reopened right after its close");
            }
        }

        /**
         * Opens, writes, fstats and closes one file many times in a row: each open can meet the
         * asynchronous RELEASE of the close before it, and fstat must show the write just made.
         */
        private void churn(String p) throws IOException {
            byte[][] content = names.get(p);
            int n = 20;
            int size = 1 + rnd.nextInt(3000);
            int offset = rnd.nextInt(content[0].length + 1);
            int seed = rnd.nextInt(1_000_000);
            log.add("churn " + p + ": " + n + " x open, write " + size + " bytes from " + offset + ", fstat, close");
            String[] sizes = ask("churn " + root.resolve(p) + " " + n + " " + offset + " " + size + " " + seed).split(" ");
            for (int i = 0; i < n; i++) {
                int end = offset + (i + 1) * size;
                byte[] now = Arrays.copyOf(content[0], Math.max(content[0].length, end));
                System.arraycopy(pattern(seed + i, size), 0, now, end - size, size);
                content[0] = now;
                assertEquals(now.length, Long.parseLong(sizes[i]), "fstat size after write " + i + " of the churn");
            }
            writtenThrough(content, nodes.get(p));
        }

        private void openFd(String p) throws IOException {
            if (fds.size() >= MAX_OPEN) {
                return;
            }
            int fd = Integer.parseInt(ask("open " + root.resolve(p)));
            log.add("open " + p + " as fd " + fd);
            Fd opened = new Fd(names.get(p), nodes.get(p));
            fds.put(fd, opened);
            checkFd(fd, opened, false);
        }

        private int pickFd() {
            List<Integer> all = new ArrayList<>(fds.keySet());
            return all.get(rnd.nextInt(all.size()));
        }

        private void writeThroughFd() throws IOException {
            if (fds.isEmpty()) {
                return;
            }
            int fd = pickFd();
            byte[][] content = fds.get(fd).content;
            int offset = rnd.nextInt(content[0].length + 20_000);
            int seed = rnd.nextInt(1_000_000);
            int len = 1 + rnd.nextInt(40_000);
            log.add("pwrite fd " + fd + " (" + linkCount(content) + " names) at " + offset + " len " + len);
            ask("pwrite " + fd + " " + offset + " " + len + " " + seed);
            byte[] now = Arrays.copyOf(content[0], Math.max(content[0].length, offset + len));
            System.arraycopy(pattern(seed, len), 0, now, offset, len);
            content[0] = now;
            writtenThrough(content, fds.get(fd).node);
            checkFd(fd, fds.get(fd), false);
        }

        /** Closes a descriptor and at once opens and fstats the file again through a name it still has. */
        private void closeFd() throws IOException {
            if (fds.isEmpty()) {
                return;
            }
            int fd = pickFd();
            byte[][] content = fds.remove(fd).content;
            log.add("close fd " + fd);
            ask("close " + fd);
            String other = names.entrySet().stream().filter(e -> e.getValue() == content).map(Map.Entry::getKey)
                    .findFirst().orElse(null);
            if (other != null) {
                try (FileChannel again = FileChannel.open(root.resolve(other), StandardOpenOption.READ)) {
                    assertEquals(content[0].length, again.size(), "fstat size of " + other + " reopened right after a close");
                }
            }
        }

        /** Whether the file reads right through a fresh open of one of its names, to tell a stale cache from lost data. */
        private String freshRead(byte[][] content) throws IOException {
            for (Map.Entry<String, byte[][]> e : names.entrySet()) {
                if (e.getValue() == content) {
                    boolean same = Arrays.equals(content[0], Files.readAllBytes(root.resolve(e.getKey())));
                    return e.getKey() + " read afresh " + (same ? "matches" : "differs too");
                }
            }
            return "no name left";
        }

        /** Marks the descriptors on other kernel inodes of a file just written through {@code node}. */
        private void writtenThrough(byte[][] content, Object node) {
            for (Fd f : fds.values()) {
                if (f.content == content && f.node != node) {
                    f.stale = true;
                }
            }
        }

        private void checkFd(int fd, Fd f, boolean withContent) throws IOException {
            byte[][] content = f.content;
            String[] st = ask("fstat " + fd).split(" ");
            assertEquals(content[0].length, Long.parseLong(st[0]), "fstat size of fd " + fd);
            assertEquals(linkCount(content), Long.parseLong(st[1]), "fstat link count of fd " + fd);
            if (withContent && !f.stale && !sha256(content[0]).equals(ask("sha " + fd))) {
                fail("content read through fd " + fd + " differs from the model (" + freshRead(content) + ")");
            }
        }

        private void link(String existing, String name) throws IOException {
            if (names.containsKey(name)) {
                return;
            }
            log.add("link " + existing + " as " + name);
            Files.createLink(root.resolve(name), root.resolve(existing));
            names.put(name, names.get(existing));
            nodes.put(name, new Object());
        }

        private void rename(String from, String to) throws IOException {
            if (from.equals(to) || names.get(from) == names.get(to)) {
                return;
            }
            log.add("rename " + from + " -> " + to + (names.containsKey(to) ? " (replacing)" : ""));
            Files.move(root.resolve(from), root.resolve(to), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            names.put(to, names.remove(from));
            nodes.put(to, nodes.remove(from));
        }

        private void unlink(String p) throws IOException {
            log.add("unlink " + p);
            Files.delete(root.resolve(p));
            names.remove(p);
            nodes.remove(p);
            if (Files.exists(root.resolve(p), LinkOption.NOFOLLOW_LINKS)) {
                fail(p + " still exists after unlink");
            }
        }

        /** Checks and closes every descriptor still open (files whose names may all be gone). */
        void closeAllChecked() throws IOException {
            try {
                for (Map.Entry<Integer, Fd> e : fds.entrySet()) {
                    log.add("final check and close of fd " + e.getKey());
                    checkFd(e.getKey(), e.getValue(), true);
                    ask("close " + e.getKey());
                }
                fds.clear();
            } catch (AssertionError e) {
                throw new AssertionError("worker " + id + " failed after:\n  " + String.join("\n  ", lastOps()), e);
            }
        }
    }
}
