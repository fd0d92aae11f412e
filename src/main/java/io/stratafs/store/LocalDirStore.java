package io.stratafs.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The embedded default target: objects are files under a local directory, one file per key.
 *
 * <p>Puts write a temporary file, fsync it, rename it over the key and fsync the parent directory,
 * so an object is either absent or complete and durable, even after a power loss. The directories
 * on the way (root, {@code blocks/}, {@code blocks/ab/}) must be durable too, or the object vanishes
 * with a new directory: each is fsynced, with its parent, the first time this instance puts below
 * it, also when it already existed, because it may have been made by a concurrent put that has not
 * synced it yet, or by a process that died before it could.
 *
 * <p>A put costs two fsyncs and a file creation (about 0.25 ms of CPU on a virtual disk) and little
 * else: temporary names come from a counter behind a per-instance random tag, not a fresh UUID, and
 * a directory known durable is not looked up again (a put into one removed meanwhile fails on the
 * missing directory and is retried once after making it again).
 */
public final class LocalDirStore implements ObjectStore {
    private static final String TMP_SUFFIX = ".stratafs-tmp";
    private final Path root;
    private final DirectorySync directorySync;
    /** Directories this instance has made durable, so only the first put below each pays for it. */
    private final Set<Path> durableDirs = ConcurrentHashMap.newKeySet();
    /** Makes this instance's temporary names unique among processes writing the same directory. */
    private final String tmpTag = UUID.randomUUID().toString();
    private final AtomicLong tmpCounter = new AtomicLong();

    private final FileSystemSync fileSystemSync;

    /** Makes a directory's entries durable; a seam so tests can see which directories were synced. */
    @FunctionalInterface
    interface DirectorySync {
        void sync(Path dir) throws IOException;
    }

    /**
     * Makes everything written on the filesystem holding a directory durable, data and directory
     * entries alike (Linux {@code syncfs(2)}); returns false where the system has no such call. A
     * seam so tests can see when a group of puts was synced.
     */
    @FunctionalInterface
    interface FileSystemSync {
        boolean sync(Path dir) throws IOException;
    }

    public LocalDirStore(Path root) {
        this(root, LocalDirStore::fsyncDirectory, SyncFs::sync);
    }

    LocalDirStore(Path root, DirectorySync directorySync) {
        this(root, directorySync, SyncFs::sync);
    }

    LocalDirStore(Path root, DirectorySync directorySync, FileSystemSync fileSystemSync) {
        this.root = root.toAbsolutePath().normalize();
        this.directorySync = directorySync;
        this.fileSystemSync = fileSystemSync;
    }

    public Path root() {
        return root;
    }

    @Override
    public String describe() {
        return "file://" + root;
    }

    @Override
    public void check() throws StoreException {
        if (Files.exists(root) && !Files.isDirectory(root)) {
            throw new StoreException("storage " + root + " is not a directory");
        }
        if (!Files.isDirectory(root)) {
            throw new StoreException("storage directory " + root + " does not exist");
        }
        if (!Files.isWritable(root)) {
            throw new StoreException("storage directory " + root + " is not writable");
        }
    }

    private Path pathOf(String key) throws StoreException {
        if (key.isEmpty() || key.startsWith("/") || key.contains("..") || key.endsWith(TMP_SUFFIX)) {
            throw new StoreException("invalid object key \"" + key + "\"");
        }
        return root.resolve(key);
    }

    @Override
    public void put(String key, byte[] data) throws StoreException {
        store(key, tmp -> write(tmp, data, true), false);
    }

    /**
     * Like {@link #put}, but the synced temporary file is hard-linked to the key: link(2) refuses an
     * existing name atomically, which a rename cannot do.
     */
    @Override
    public void create(String key, byte[] data) throws StoreException {
        store(key, tmp -> write(tmp, data, true), true);
    }

    @Override
    public void putFile(String key, Path file) throws StoreException {
        store(key, tmp -> {
            Files.copy(file, tmp);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
        }, false);
    }

    /** A group costs two filesystem syncs in all, instead of two fsyncs (two disk cache flushes) per object. */
    @Override
    public boolean putsInGroups() {
        return true;
    }

    /**
     * Writes every object to a temporary file beside its key, makes them all durable together,
     * renames each over its key and makes the renames durable together, so each object is, as with
     * {@link #put}, absent or complete and durable even after a power loss. The two group syncs are
     * one {@code syncfs} each (which also writes out whatever else is dirty on that filesystem); where
     * there is none, each temporary file is fsynced and then each directory once per group.
     */
    @Override
    public void putAll(List<String> keys, List<byte[]> data) throws StoreException {
        if (keys.size() != data.size()) {
            throw new IllegalArgumentException(keys.size() + " keys for " + data.size() + " objects");
        }
        if (keys.isEmpty()) {
            return;
        }
        List<Path> targets = new ArrayList<>(keys.size());
        List<Path> tmps = new ArrayList<>(keys.size());
        for (String key : keys) {
            targets.add(pathOf(key));
        }
        String current = null;
        try {
            for (int i = 0; i < targets.size(); i++) {
                current = keys.get(i);
                Path target = targets.get(i);
                Path dir = target.getParent();
                Path tmp = tmpFor(target);
                tmps.add(tmp);
                byte[] bytes = data.get(i);
                fillInDurableDirectory(dir, tmp, t -> write(t, bytes, false));
            }
            current = null;
            boolean grouped = fileSystemSync.sync(root);
            if (!grouped) {
                for (Path tmp : tmps) {
                    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                        ch.force(true);
                    }
                }
            }
            Set<Path> dirs = new LinkedHashSet<>();
            for (int i = 0; i < targets.size(); i++) {
                current = keys.get(i);
                rename(tmps.get(i), targets.get(i));
                dirs.add(targets.get(i).getParent());
            }
            current = null;
            if (!grouped || !fileSystemSync.sync(root)) {
                for (Path dir : dirs) {
                    directorySync.sync(dir);
                }
            }
        } catch (IOException e) {
            for (Path tmp : tmps) {
                deleteQuietly(tmp);
            }
            throw new StoreUnavailableException("cannot write " + (current == null ? keys.size() + " objects" : current)
                    + " to " + describe() + ": " + e.getMessage(), e);
        }
    }

    private Path tmpFor(Path target) {
        return target.resolveSibling(target.getFileName() + "." + tmpTag + "-" + tmpCounter.incrementAndGet() + TMP_SUFFIX);
    }

    private static void rename(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Writes the content of a new temporary file: forced to disk, except in {@link #putAll}, which syncs its group at once. */
    @FunctionalInterface
    private interface Fill {
        void into(Path tmp) throws IOException;
    }

    /**
     * Writes a new temporary file, forced to disk when {@code force} (not in {@link #putAll}, which
     * makes its whole group durable at once).
     */
    private static void write(Path tmp, byte[] data, boolean force) throws IOException {
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(data);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            if (force) {
                ch.force(true);
            }
        }
    }

    /**
     * Fills {@code tmp} in {@code dir}, creating the directory durably first; a directory removed
     * since this instance made it durable (a wiped target being refilled) is made again once.
     */
    private void fillInDurableDirectory(Path dir, Path tmp, Fill fill) throws IOException {
        createDurableDirectories(dir);
        try {
            fill.into(tmp);
        } catch (NoSuchFileException e) {
            if (Files.isDirectory(dir)) {
                throw e;
            }
            forgetDurable(dir);
            createDurableDirectories(dir);
            fill.into(tmp);
        }
    }

    /**
     * The one write path: a synced temporary file beside the key, renamed over it (or, when
     * {@code exclusive}, linked to it so an existing object is never replaced), then the directory
     * synced. An object is either absent or complete and durable, even after a power loss.
     */
    private void store(String key, Fill fill, boolean exclusive) throws StoreException {
        Path target = pathOf(key);
        Path dir = target.getParent();
        Path tmp = tmpFor(target);
        try {
            fillInDurableDirectory(dir, tmp, fill);
            if (exclusive) {
                Files.createLink(target, tmp);
                Files.delete(tmp);
            } else {
                rename(tmp, target);
            }
            directorySync.sync(dir);
        } catch (FileAlreadyExistsException e) {
            deleteQuietly(tmp);
            if (exclusive) {
                throw new ObjectExistsException("object " + key + " already exists in " + describe());
            }
            throw new StoreUnavailableException("cannot write " + key + " to " + describe() + ": " + e.getMessage(), e);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new StoreUnavailableException("cannot write " + key + " to " + describe() + ": " + e.getMessage(), e);
        }
    }

    private static void deleteQuietly(Path tmp) {
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
            // the original failure is the one worth reporting
        }
    }

    /** Creates {@code dir} and its missing parents, and fsyncs each one not yet known durable and its parent. */
    private void createDurableDirectories(Path dir) throws IOException {
        if (durableDirs.contains(dir)) {
            return;
        }
        forgetDurable(dir);
        Files.createDirectories(dir);
        Set<Path> toSync = new LinkedHashSet<>();
        List<Path> chain = new ArrayList<>();
        for (Path p = dir; p != null && p.startsWith(root) && !durableDirs.contains(p); p = p.getParent()) {
            chain.add(p);
            toSync.add(p);
            if (p.getParent() != null) {
                toSync.add(p.getParent());
            }
        }
        for (Path p : toSync) {
            directorySync.sync(p);
        }
        // only now: a concurrent put that finds one of these in the set may rely on it at once
        durableDirs.addAll(chain);
    }

    /** {@code dir} and those of its parents that no longer exist start over as not durable. */
    private void forgetDurable(Path dir) {
        for (Path p = dir; p != null && p.startsWith(root) && !Files.isDirectory(p); p = p.getParent()) {
            durableDirs.remove(p);
        }
    }

    private static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    @Override
    public byte[] get(String key) throws StoreException {
        try {
            return Files.readAllBytes(pathOf(key));
        } catch (NoSuchFileException e) {
            throw new ObjectNotFoundException("object " + key + " not found in " + describe());
        } catch (IOException e) {
            throw new StoreUnavailableException("cannot read " + key + " from " + describe() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public byte[] getRange(String key, long offset, int length) throws StoreException {
        try (FileChannel ch = FileChannel.open(pathOf(key), StandardOpenOption.READ)) {
            long size = ch.size();
            int n = (int) Math.max(0, Math.min(length, size - offset));
            ByteBuffer buf = ByteBuffer.allocate(n);
            while (buf.hasRemaining()) {
                if (ch.read(buf, offset + buf.position()) < 0) {
                    break;
                }
            }
            return buf.array();
        } catch (NoSuchFileException e) {
            throw new ObjectNotFoundException("object " + key + " not found in " + describe());
        } catch (IOException e) {
            throw new StoreUnavailableException("cannot read " + key + " from " + describe() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public boolean exists(String key) throws StoreException {
        return Files.isRegularFile(pathOf(key));
    }

    @Override
    public List<String> list(String prefix) throws StoreException {
        List<String> keys = new ArrayList<>();
        int cut = prefix.lastIndexOf('/');
        Path start = cut < 0 ? root : root.resolve(prefix.substring(0, cut));
        if (!Files.isDirectory(start)) {
            return keys;
        }
        try {
            // Another writer's temporary file can vanish between the directory read and its stat
            // (renamed into place): skipped, as is a directory removed meanwhile.
            Files.walkFileTree(start, new java.nio.file.SimpleFileVisitor<>() {
                @Override
                public java.nio.file.FileVisitResult visitFile(Path p, java.nio.file.attribute.BasicFileAttributes attrs) {
                    String key = root.relativize(p).toString().replace('\\', '/');
                    if (attrs.isRegularFile() && key.startsWith(prefix) && !key.endsWith(TMP_SUFFIX)) {
                        keys.add(key);
                    }
                    return java.nio.file.FileVisitResult.CONTINUE;
                }

                @Override
                public java.nio.file.FileVisitResult visitFileFailed(Path p, IOException e) throws IOException {
                    if (e instanceof NoSuchFileException) {
                        return java.nio.file.FileVisitResult.CONTINUE;
                    }
                    throw e;
                }

                @Override
                public java.nio.file.FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                    if (e != null && !(e instanceof NoSuchFileException)) {
                        throw e;
                    }
                    return java.nio.file.FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new StoreUnavailableException("cannot list " + prefix + " in " + describe() + ": " + e.getMessage(), e);
        }
        keys.sort(null);
        return keys;
    }

    @Override
    public List<ObjectInfo> listInfo(String prefix) throws StoreException {
        List<ObjectInfo> out = new ArrayList<>();
        for (String key : list(prefix)) {
            ObjectInfo info = stat(key);
            if (info != null) {
                out.add(info);
            }
        }
        return out;
    }

    @Override
    public ObjectInfo stat(String key) throws StoreException {
        try {
            java.nio.file.attribute.BasicFileAttributes a = Files.readAttributes(pathOf(key), java.nio.file.attribute.BasicFileAttributes.class);
            return new ObjectInfo(key, a.size(), a.lastModifiedTime().toMillis());
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new StoreUnavailableException("cannot look up " + key + " in " + describe() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void delete(String key) throws StoreException {
        try {
            Files.deleteIfExists(pathOf(key));
        } catch (IOException e) {
            throw new StoreUnavailableException("cannot delete " + key + " from " + describe() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        // nothing held open between calls
    }
}
