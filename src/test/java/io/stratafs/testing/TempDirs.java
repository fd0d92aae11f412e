package io.stratafs.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Removal of the directory trees tests make under /tmp (stores, caches, S3Proxy's files, mountpoints). */
public final class TempDirs {
    private TempDirs() {
    }

    /**
     * Removes {@code root} and everything below it, deepest first; a tree already gone is fine. Walks
     * without following links, so a link in the tree never takes the removal outside it.
     */
    public static void delete(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
