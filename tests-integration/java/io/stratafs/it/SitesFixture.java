package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.fail;

import io.stratafs.store.s3.S3ProxyServer;
import io.stratafs.testing.TempDirs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Several sites of one volume on this machine, each a real mount through the launcher with its own
 * cache directory and its own storage: a directory, or a bucket on an S3Proxy server of its own (so
 * one site's storage can be stopped without touching the others'). The first site is formatted, the
 * others join it. Every command of every site reads AWS settings from this fixture's files only: a
 * profile named {@value #PROFILE} holds the S3Proxy keys, and the site records of S3 sites name it,
 * which is how peers reach an S3 site's bucket.
 *
 * <p>Convergence is judged by what a user sees: {@link #snapshot} walks a mountpoint (names, types,
 * modes, owners, sizes, link counts, content hashes, symlink targets, user xattrs) and
 * {@link #awaitConverged} waits until every site's walk is the same; when {@code status --json}
 * carries a "sites" object it must also show equal digests and nothing behind.
 * {@link #close()} unmounts every site, stops every server and deletes everything, also after a
 * failed test.
 */
final class SitesFixture implements AutoCloseable {
    static final String PROFILE = "sites";
    static final long POLL_MILLIS = 50;
    static final long DEADLINE_MILLIS = 30_000;
    /** A conflict copy's name: stem.conflict-SITE-yyyyMMddTHHmmssZ[-N].ext */
    static final String CONFLICT_TAG = "\\.conflict-[A-Za-z0-9_-]+-\\d{8}T\\d{6}Z(?:-\\d+)?";

    private static final Pattern DIGEST = Pattern.compile("\"digest\"\\s*:\\s*\"([0-9a-fA-F]+)\"");
    private static final Pattern LOGGED = Pattern.compile("\"logged\"\\s*:\\s*(\\d+)");
    private static final Pattern BEHIND = Pattern.compile("\"behind\"\\s*:\\s*(\\d+)");

    final Path root;
    private final Map<String, Site> sites = new LinkedHashMap<>();

    /** One site: its mount fixture (storage, cache, mountpoint) and, for an S3 site, its own server. */
    final class Site {
        final String name;
        final MountFixture fs;
        final S3ProxyServer server;
        private boolean storageStopped;

        private Site(String name, MountFixture fs, S3ProxyServer server) {
            this.name = name;
            this.fs = fs;
            this.server = server;
        }

        Path mnt() {
            return fs.mnt;
        }

        Path path(String relative) {
            return fs.mnt.resolve(relative);
        }

        /** Runs a bash script in this site's mountpoint; fails the test with its output and the log's tail. */
        String sh(String script) {
            return fs.sh(script);
        }

        Site mount() {
            fs.mount();
            return this;
        }

        void umount() {
            fs.umount();
        }

        void kill9() {
            fs.kill9();
        }

        /** Mounts again after {@link #kill9()}: the launcher clears the dead daemon's mount. */
        void mountAfterKill() {
            fs.runOk(fs.mountArgs().toArray(new String[0]));
            if (!fs.isMounted()) {
                fail("mount after kill -9 returned but " + fs.mnt + " is not mounted" + fs.logTail());
            }
        }

        /** Stops this S3 site's server: its storage stops answering, for itself and for every peer. */
        void stopStorage() throws Exception {
            requireS3().stop();
            storageStopped = true;
        }

        void restartStorage() throws Exception {
            requireS3().restartSamePort();
            storageStopped = false;
        }

        private S3ProxyServer requireS3() {
            if (server == null) {
                throw new IllegalStateException("site " + name + " keeps its storage in a directory, not on an S3 server");
            }
            return server;
        }

        String statusJson() {
            return fs.statusJson();
        }

        /** How many operations this site has logged of its own (status: sites.logged). */
        long logged() {
            String json = statusJson();
            Matcher m = LOGGED.matcher(json);
            if (!m.find()) {
                fail(this + "'s status has no sites.logged: " + json);
            }
            return Long.parseLong(m.group(1));
        }

        /** How many of a peer's operations this site has applied (status: sites.peers[site].applied), -1 if it lists no such peer. */
        long applied(String peer) {
            Matcher m = Pattern.compile("\\{\\s*\"site\"\\s*:\\s*\"" + Pattern.quote(peer) + "\"\\s*,\\s*\"applied\"\\s*:\\s*(\\d+)")
                    .matcher(statusJson());
            return m.find() ? Long.parseLong(m.group(1)) : -1;
        }

        /**
         * Runs this site's sync daemon without a mount ({@code stratafs sync}, foreground until
         * SIGTERM), its output in the fixture's directory; close the result to kill it if a test
         * fails before it stops the daemon itself with {@link #stopSync}.
         */
        Shell.Background startSync() {
            List<String> args = fs.mountArgs();
            args.set(0, "sync");
            args.remove(2);
            List<String> cmd = new ArrayList<>(List.of("env"));
            fs.env.forEach((k, v) -> cmd.add(k + "=" + v));
            cmd.add(MountFixture.LAUNCHER.toString());
            cmd.addAll(args);
            return Shell.background(root, root.resolve("sync-" + name + ".log"), cmd);
        }

        /** SIGTERM to a sync daemon; returns its exit status once it has exited (at most 60 s). */
        int stopSync(Shell.Background sync) throws InterruptedException {
            ProcessHandle.of(sync.pid()).ifPresent(ProcessHandle::destroy);
            if (!sync.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
                fail("stratafs sync of " + this + " did not exit within 60 s of SIGTERM:\n" + sync.output());
            }
            return sync.exitValue();
        }

        @Override
        public String toString() {
            return "site " + name;
        }
    }

    SitesFixture() throws IOException {
        root = Files.createTempDirectory(Paths.get("/tmp"), "stratafs-it-sites-");
        Files.writeString(root.resolve("credentials"), "[" + PROFILE + "]\naws_access_key_id = " + S3ProxyServer.ACCESS_KEY
                + "\naws_secret_access_key = " + S3ProxyServer.SECRET_KEY + "\n");
        Files.writeString(root.resolve("config"), "");
    }

    /** What a test class adds to a fresh fixture (sites, their mount options) before all are mounted. */
    interface Setup {
        void addSites(SitesFixture sites) throws Exception;
    }

    /**
     * A fresh fixture with the sites {@code setup} adds, all mounted; if any step fails, everything
     * made so far is unmounted and removed before the failure goes on.
     */
    static SitesFixture mounted(Setup setup) throws Exception {
        SitesFixture sites = new SitesFixture();
        try {
            setup.addSites(sites);
            sites.mountAll();
            return sites;
        } catch (Exception | Error e) {
            sites.close();
            throw e;
        }
    }

    /** Adds a site whose storage is a directory: formats it (the first site) or joins it to the first site. */
    Site addDirSite(String name) throws IOException {
        return add(name, new MountFixture(), null);
    }

    /** Adds a site whose storage is bucket {@code site-NAME} on an S3Proxy server of its own. */
    Site addS3Site(String name) throws Exception {
        S3ProxyServer server = S3ProxyServer.start(root.resolve("s3-" + name));
        String bucket = "site-" + name.toLowerCase(Locale.ROOT);
        server.createBucket(bucket);
        MountFixture fs;
        try {
            fs = new MountFixture().withStorage("s3://" + bucket + "/vol", "--endpoint", server.endpoint().toString(), "--path-style",
                    "--profile", PROFILE);
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        return add(name, fs, server);
    }

    private Site add(String name, MountFixture fs, S3ProxyServer server) {
        fs.env.put("AWS_SHARED_CREDENTIALS_FILE", root.resolve("credentials").toString());
        fs.env.put("AWS_CONFIG_FILE", root.resolve("config").toString());
        fs.env.put("AWS_EC2_METADATA_DISABLED", "true");
        fs.withMountArgs("--site", name);
        Site site = new Site(name, fs, server);
        Site first = sites.isEmpty() ? null : sites.values().iterator().next();
        sites.put(name, site);
        List<String> args = new ArrayList<>(List.of("--site", name));
        if (first != null) {
            args.addAll(List.of("--join", first.fs.storage));
            if (first.server != null) {
                args.addAll(List.of("--join-endpoint", first.server.endpoint().toString(), "--join-path-style", "--join-profile", PROFILE));
            }
        }
        try {
            fs.format(args.toArray(new String[0]));
        } catch (RuntimeException | Error e) {
            // format closed the mount fixture; the server is ours to stop
            closeServer(site, e);
            sites.remove(name);
            throw e;
        }
        return site;
    }

    Site site(String name) {
        Site s = sites.get(name);
        if (s == null) {
            throw new IllegalArgumentException("no site " + name + " in this fixture (sites: " + sites.keySet() + ")");
        }
        return s;
    }

    List<Site> sites() {
        return List.copyOf(sites.values());
    }

    SitesFixture mountAll() {
        sites.values().forEach(Site::mount);
        return this;
    }

    /**
     * Waits (polling every {@value #POLL_MILLIS} ms, at most {@value #DEADLINE_MILLIS} ms) until
     * {@code difference} returns null, and returns how long that took in milliseconds; fails with
     * the last difference it returned. An I/O error counts as a difference (a file may vanish
     * between listing and reading while a peer's operations are applied).
     */
    static long await(String what, Supplier<String> difference) {
        return await(what, DEADLINE_MILLIS, POLL_MILLIS, difference);
    }

    static long await(String what, long deadlineMillis, long pollMillis, Supplier<String> difference) {
        long start = System.nanoTime();
        long deadline = start + deadlineMillis * 1_000_000;
        String last = differenceOrError(difference);
        while (last != null) {
            if (System.nanoTime() > deadline) {
                fail("after " + deadlineMillis + " ms still not true: " + what + "\nlast difference: " + last);
            }
            try {
                Thread.sleep(pollMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting until " + what, e);
            }
            last = differenceOrError(difference);
        }
        return (System.nanoTime() - start) / 1_000_000;
    }

    private static String differenceOrError(Supplier<String> difference) {
        try {
            return difference.get();
        } catch (UncheckedIOException e) {
            return "I/O error: " + e.getCause();
        }
    }

    /** Waits until every site of this fixture sees the same tree, the same digest and nothing behind. */
    long awaitConverged() {
        return awaitConverged(sites());
    }

    long awaitConverged(Site... these) {
        return awaitConverged(List.of(these));
    }

    long awaitConverged(List<Site> these) {
        return awaitConverged(these, "");
    }

    /**
     * Waits until every site shows the same tree under {@code dir} and no site is behind a peer:
     * what tests sharing one set of mounts use, each in a directory of its own, so that one test's
     * divergence is reported by that test alone (the digests cover the whole tree, so they are not
     * compared here).
     */
    long awaitConverged(String dir) {
        return awaitConverged(sites(), dir);
    }

    long awaitConverged(List<Site> these, String dir) {
        String names = these.stream().map(s -> s.name).toList() + (dir.isEmpty() ? "" : " under " + dir);
        long start = System.nanoTime();
        try {
            await("sites " + names + " show the same tree", () -> treeDifference(these, dir));
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\nwhat their status says: " + siteSummaries(these) + logTails(these), e);
        }
        boolean digests = dir.isEmpty();
        await("sites " + names + " report " + (digests ? "equal digests and " : "") + "nothing behind", DEADLINE_MILLIS, 200,
                () -> statusDifference(these, digests));
        long took = (System.nanoTime() - start) / 1_000_000;
        String after = treeDifference(these, dir);
        if (after != null) {
            fail("sites " + names + " reported convergence but their trees differ: " + after + logTails(these));
        }
        return took;
    }

    /** Null when every site's tree under {@code dir} equals the first site's, else the first few differences. */
    static String treeDifference(List<Site> these, String dir) {
        SortedMap<String, String> reference = snapshot(these.get(0).mnt().resolve(dir));
        for (Site other : these.subList(1, these.size())) {
            String d = difference(these.get(0).name, reference, other.name, snapshot(other.mnt().resolve(dir)));
            if (d != null) {
                return d;
            }
        }
        return null;
    }

    /**
     * Null when no site's status has a "sites" object yet (the trees are the check then), or when
     * the digests are equal and no peer is behind.
     */
    private static String statusDifference(List<Site> these, boolean compareDigests) {
        Set<String> seen = new TreeSet<>();
        StringBuilder behind = new StringBuilder();
        int reporting = 0;
        for (Site s : these) {
            String json = s.statusJson();
            int at = json.indexOf("\"sites\"");
            if (at < 0) {
                continue;
            }
            reporting++;
            String sitesPart = json.substring(at);
            Matcher d = DIGEST.matcher(sitesPart);
            seen.add(d.find() ? d.group(1) : "(no digest)");
            Matcher b = BEHIND.matcher(sitesPart);
            while (b.find()) {
                if (!b.group(1).equals("0")) {
                    behind.append(s.name).append(" has a peer ").append(b.group(1)).append(" operations behind; ");
                }
            }
        }
        if (reporting > 0 && ((compareDigests && seen.size() > 1) || behind.length() > 0)) {
            return "digests " + seen + "; " + behind;
        }
        return null;
    }

    /** Each site's digest and its peers' lag as status shows them, for failure messages. */
    private static String siteSummaries(List<Site> these) {
        StringBuilder out = new StringBuilder();
        for (Site s : these) {
            try {
                String json = s.statusJson();
                int at = json.indexOf("\"sites\"");
                out.append("\n  ").append(s.name).append(": ").append(at < 0 ? "(no sites in status)" : json.substring(at, Math.min(json.length(), at + 600)));
            } catch (AssertionError e) {
                out.append("\n  ").append(s.name).append(": status failed: ").append(e.getMessage());
            }
        }
        return out.toString();
    }

    static String difference(String nameA, SortedMap<String, String> a, String nameB, SortedMap<String, String> b) {
        List<String> out = new ArrayList<>();
        Set<String> paths = new TreeSet<>(a.keySet());
        paths.addAll(b.keySet());
        for (String p : paths) {
            String x = a.get(p);
            String y = b.get(p);
            if (x == null || !x.equals(y)) {
                out.add(p + ": at " + nameA + " " + (x == null ? "(absent)" : x) + ", at " + nameB + " " + (y == null ? "(absent)" : y));
            }
        }
        if (out.isEmpty()) {
            return null;
        }
        return out.size() + " paths differ: " + String.join("; ", out.subList(0, Math.min(8, out.size())));
    }

    /**
     * What a user sees under a mountpoint, path by path: the type, permission bits, owner, link count,
     * size and SHA-256 of a file; a directory's permissions and owner; a symlink's target; the user
     * xattrs of files and directories (except StrataFS's own virtual {@code user.stratafs.*}, which
     * describe the local site). Times are left out: a directory's times legitimately differ between
     * sites, and the tests that change times check them where they mean something.
     */
    static SortedMap<String, String> snapshot(Path mnt) {
        SortedMap<String, String> out = new TreeMap<>();
        try {
            Files.walkFileTree(mnt, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                    if (!dir.equals(mnt)) {
                        out.put(mnt.relativize(dir).toString(), describe(dir));
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    out.put(mnt.relativize(file).toString(), describe(file));
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static String describe(Path p) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,nlink,size", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) a.get("mode");
        String perms = Integer.toOctalString(mode & 07777);
        String owner = a.get("uid") + ":" + a.get("gid");
        if (Files.isSymbolicLink(p)) {
            return "symlink -> " + Files.readSymbolicLink(p) + " " + owner;
        }
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            return "dir " + perms + " " + owner + xattrs(p);
        }
        if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
            return "file " + perms + " " + owner + " links " + a.get("nlink") + " size " + a.get("size") + " sha256 " + sha256(p) + xattrs(p);
        }
        return "other (mode " + Integer.toOctalString(mode) + ")";
    }

    private static String xattrs(Path p) throws IOException {
        UserDefinedFileAttributeView view = Files.getFileAttributeView(p, UserDefinedFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        SortedMap<String, String> values = new TreeMap<>();
        for (String name : view.list()) {
            if (name.startsWith("stratafs.")) {
                continue;
            }
            ByteBuffer buf = ByteBuffer.allocate(view.size(name));
            view.read(name, buf);
            values.put(name, new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8));
        }
        return values.isEmpty() ? "" : " xattrs " + values;
    }

    static String sha256(Path file) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Names in a directory of a mount that match a regular expression, sorted. */
    static List<String> namesMatching(Path dir, String regex) throws IOException {
        Pattern p = Pattern.compile(regex);
        try (Stream<Path> list = Files.list(dir)) {
            return list.map(f -> f.getFileName().toString()).filter(n -> p.matcher(n).matches()).sorted().toList();
        }
    }

    /** The logs' last lines of these sites, for failure messages. */
    static String logTails(List<Site> these) {
        StringBuilder out = new StringBuilder();
        these.forEach(s -> out.append("\n[").append(s).append("]").append(s.fs.logTail()));
        return out.toString();
    }

    /**
     * Creates {@code count} small files in {@code dir} at {@code from}, one at a time, and returns
     * for each the milliseconds from the write returning (the file closed) to the file being at
     * {@code to} with its full content. The receiving site is looked at every 10 ms (finer than the
     * 50 ms of the other waits, so the figure is not rounded up to the poll).
     */
    static List<Long> createDelays(Site from, Site to, String dir, int count) throws IOException {
        List<Long> delays = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] content = ("file " + i + " written at " + from.name + "\n").getBytes(StandardCharsets.UTF_8);
            Path there = to.path(dir + "/f" + i);
            Files.write(from.path(dir + "/f" + i), content);
            delays.add(await(dir + "/f" + i + " is at " + to + " with its content", DEADLINE_MILLIS, 10, () -> sameContent(there, content)));
        }
        return delays;
    }

    /** Null when the file exists with exactly this content, else what it holds. */
    static String sameContent(Path file, byte[] expected) {
        try {
            if (!Files.exists(file)) {
                return file + " does not exist";
            }
            byte[] got = Files.readAllBytes(file);
            return java.util.Arrays.equals(got, expected) ? null : file + " holds " + got.length + " other bytes";
        } catch (IOException e) {
            return file + ": " + e;
        }
    }

    /** Percentile by nearest rank of a list of delays. */
    static long percentile(List<Long> values, double p) {
        List<Long> sorted = values.stream().sorted().toList();
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, rank - 1));
    }

    /** Unmounts every site, then stops every server (a site flushing to its server needs it up), then deletes everything. Idempotent. */
    @Override
    public void close() {
        List<Throwable> problems = new ArrayList<>();
        List<Site> all = new ArrayList<>(sites.values());
        for (Site s : all) {
            if (s.storageStopped) {
                attempt(problems, () -> {
                    try {
                        // an unmount flushes to the site's own storage: bring back a server a test left stopped
                        s.restartStorage();
                    } catch (Exception e) {
                        throw new AssertionError("cannot restart the S3 server of " + s, e);
                    }
                });
            }
        }
        for (Site s : all) {
            attempt(problems, s.fs::close);
        }
        for (Site s : all) {
            attempt(problems, () -> closeServer(s, null));
        }
        sites.clear();
        attempt(problems, () -> {
            if (!Files.exists(root)) {
                return;
            }
            try {
                TempDirs.delete(root);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        if (!problems.isEmpty()) {
            AssertionError e = new AssertionError("cleanup of the sites in " + root + " was incomplete");
            problems.forEach(e::addSuppressed);
            throw e;
        }
    }

    private static void closeServer(Site s, Throwable into) {
        if (s.server == null) {
            return;
        }
        try {
            s.server.close();
        } catch (Exception e) {
            if (into != null) {
                into.addSuppressed(e);
            } else {
                throw new AssertionError("cannot stop the S3 server of " + s, e);
            }
        }
    }

    private static void attempt(List<Throwable> problems, Runnable step) {
        try {
            step.run();
        } catch (RuntimeException | Error e) {
            problems.add(e);
        }
    }
}
