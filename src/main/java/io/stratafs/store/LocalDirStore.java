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
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The embedded default target: objects are files under a local directory, one file per key.
 *
 * <p>Puts write a temporary file, fsync it, rename it over the key and fsync the parent directory,
 * so an object is either absent or complete and durable, even after a power loss.
 */
public final class LocalDirStore implements ObjectStore {
    private static final String TMP_SUFFIX = ".stratafs-tmp";
    private final Path root;

    public LocalDirStore(Path root) {
        this.root = root.toAbsolutePath().normalize();
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
        Path target = pathOf(key);
        Path dir = target.getParent();
        Path tmp = dir.resolve(target.getFileName() + "." + UUID.randomUUID() + TMP_SUFFIX);
        try {
            Files.createDirectories(dir);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(data);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            }
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the original failure is the one worth reporting
            }
            throw new StoreUnavailableException("cannot write " + key + " to " + describe() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes a temporary file, fsyncs it and hard-links it to the key: link(2) refuses an existing
     * name atomically, which a rename cannot do.
     */
    @Override
    public void create(String key, byte[] data) throws StoreException {
        Path target = pathOf(key);
        Path dir = target.getParent();
        Path tmp = dir.resolve(target.getFileName() + "." + UUID.randomUUID() + TMP_SUFFIX);
        try {
            Files.createDirectories(dir);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(data);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            Files.createLink(target, tmp);
            Files.delete(tmp);
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            }
        } catch (FileAlreadyExistsException e) {
            deleteQuietly(tmp);
            throw new ObjectExistsException("object " + key + " already exists in " + describe());
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

    @Override
    public void putFile(String key, Path file) throws StoreException {
        Path target = pathOf(key);
        Path dir = target.getParent();
        Path tmp = dir.resolve(target.getFileName() + "." + UUID.randomUUID() + TMP_SUFFIX);
        try {
            Files.createDirectories(dir);
            Files.copy(file, tmp);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            }
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the original failure is the one worth reporting
            }
            throw new StoreUnavailableException("cannot write " + key + " to " + describe() + ": " + e.getMessage(), e);
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
        try (Stream<Path> walk = Files.walk(start)) {
            walk.filter(Files::isRegularFile).forEach(p -> {
                String key = root.relativize(p).toString().replace('\\', '/');
                if (key.startsWith(prefix) && !key.endsWith(TMP_SUFFIX)) {
                    keys.add(key);
                }
            });
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new StoreUnavailableException("cannot list " + prefix + " in " + describe() + ": " + e.getMessage(), e);
        }
        keys.sort(null);
        return keys;
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
