package io.stratafs.fuse;

import io.stratafs.fuse.lowlevel.Attr;
import io.stratafs.fuse.lowlevel.LowLevelFileSystem;
import io.stratafs.fuse.lowlevel.MemTree;
import io.stratafs.fuse.lowlevel.SetAttrs;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.function.IntSupplier;
import jnr.ffi.Pointer;
import jnr.ffi.types.mode_t;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;

/**
 * {@link MemTree} served through jnr-fuse's high-level (path) API on {@link FuseSession}, the loop
 * StrataFS used on the path API, so the benchmark compares the two APIs over the same filesystem and threads.
 * Every call first walks its path from the root, as a path filesystem must.
 */
public final class MemPathFs extends FuseStubFS {
    private static final ThreadLocal<byte[]> BUF = ThreadLocal.withInitial(() -> new byte[128 << 10]);
    private final MemTree tree;

    public MemPathFs(MemTree tree) {
        this.tree = tree;
    }

    /** Mounts with {@code fuseArgs} ("-o", "...") and serves on 16 to 256 threads until unmounted. */
    public void serve(Path mountpoint, List<String> fuseArgs, Runnable mounted) throws InterruptedException {
        List<String> args = new java.util.ArrayList<>(List.of("mempath", "-f", mountpoint.toAbsolutePath().toString()));
        args.addAll(fuseArgs);
        new FuseSession(16, 256).serve(fuseOperations, mountpoint, args.toArray(new String[0]), mounted);
    }

    private long resolve(String path) {
        long ino = LowLevelFileSystem.ROOT;
        for (String part : path.split("/")) {
            if (!part.isEmpty()) {
                ino = tree.lookup(ino, part);
            }
        }
        return ino;
    }

    private static String parentOf(String path) {
        int i = path.lastIndexOf('/');
        return i <= 0 ? "/" : path.substring(0, i);
    }

    private static String nameOf(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    private static int call(IntSupplier body) {
        try {
            return body.getAsInt();
        } catch (MemTree.FsError e) {
            return -e.errno;
        }
    }

    @Override
    public int getattr(String path, FileStat stat) {
        return call(() -> {
            Attr a = tree.attr(resolve(path));
            a.fill(stat);
            return 0;
        });
    }

    @Override
    public int mkdir(String path, @mode_t long mode) {
        return call(() -> {
            tree.make(resolve(parentOf(path)), nameOf(path), 0040000 | (int) (mode & 07777), 0, 0);
            return 0;
        });
    }

    @Override
    public int create(String path, @mode_t long mode, FuseFileInfo fi) {
        return call(() -> {
            long ino = tree.make(resolve(parentOf(path)), nameOf(path), 0100000 | (int) (mode & 07777), 0, 0);
            tree.open(ino);
            fi.fh.set(ino);
            return 0;
        });
    }

    @Override
    public int open(String path, FuseFileInfo fi) {
        return call(() -> {
            long ino = resolve(path);
            tree.open(ino);
            fi.fh.set(ino);
            return 0;
        });
    }

    @Override
    public int release(String path, FuseFileInfo fi) {
        tree.release(fi.fh.get());
        return 0;
    }

    @Override
    public int read(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
        return call(() -> {
            byte[] b = BUF.get();
            int n = tree.read(fi.fh.get(), offset, b, (int) Math.min(size, b.length));
            buf.put(0, b, 0, n);
            return n;
        });
    }

    @Override
    public int write(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
        return call(() -> {
            byte[] b = BUF.get();
            buf.get(0, b, 0, (int) size);
            return tree.write(fi.fh.get(), offset, ByteBuffer.wrap(b, 0, (int) size));
        });
    }

    @Override
    public int truncate(String path, @off_t long size) {
        return call(() -> {
            tree.setattr(resolve(path), new SetAttrs(OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty(),
                    OptionalLong.of(size), OptionalLong.empty(), false, OptionalLong.empty(), false));
            return 0;
        });
    }

    @Override
    public int unlink(String path) {
        return call(() -> {
            tree.remove(resolve(parentOf(path)), nameOf(path), false);
            return 0;
        });
    }

    @Override
    public int rename(String oldpath, String newpath) {
        return call(() -> {
            tree.rename(resolve(parentOf(oldpath)), nameOf(oldpath), resolve(parentOf(newpath)), nameOf(newpath));
            return 0;
        });
    }

    @Override
    public int readdir(String path, Pointer buf, FuseFillDir filter, @off_t long offset, FuseFileInfo fi) {
        return call(() -> {
            long ino = resolve(path);
            for (io.stratafs.fuse.lowlevel.Dirent d : tree.list(ino, ino)) {
                filter.apply(buf, d.name(), null, 0);
            }
            return 0;
        });
    }
}
