package io.stratafs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The layers of ARCHITECTURE.md, checked on the sources: which of our packages each package may
 * import, and the one package each library is used in, so a layer can be replaced without touching
 * the rest. A plain scan of the import lines of src/main/java (no bytecode library needed).
 */
class ArchitectureTest {
    private static final Path SOURCES = Paths.get("src/main/java/io/stratafs");
    private static final Pattern IMPORT = Pattern.compile("^import (?:static )?([\\w.]+)");

    /**
     * Our packages each package may import (itself always). Lower layers never see the VFS, FUSE, the
     * mount wiring or the CLI; the sync engine never sees the VFS; only the CLI wires everything.
     */
    private static final Map<String, Set<String>> MAY_IMPORT = Map.ofEntries(
            Map.entry("clock", Set.of()),
            Map.entry("os", Set.of()),
            Map.entry("config", Set.of()),
            Map.entry("logging", Set.of()),
            Map.entry("metrics", Set.of()),
            Map.entry("meta", Set.of()),
            Map.entry("store", Set.of("metrics", "os")),
            Map.entry("cache", Set.of("config", "meta", "metrics", "store")),
            Map.entry("writeback", Set.of("cache", "config", "meta", "store")),
            Map.entry("ops", Set.of("config", "meta", "store", "writeback")),
            // journal and sync use each other's types (the log's codec and the engine's records)
            Map.entry("journal", Set.of("meta", "store", "sync")),
            Map.entry("sync", Set.of("cache", "clock", "config", "journal", "meta", "store")),
            Map.entry("vfs", Set.of("cache", "meta", "metrics")),
            Map.entry("fuse", Set.of("meta", "metrics", "os", "vfs")),
            Map.entry("mount", Set.of("cache", "journal", "meta", "sync", "vfs")),
            Map.entry("cli", Set.of("cache", "clock", "config", "fuse", "journal", "logging", "meta", "metrics", "mount", "ops",
                    "os", "store", "sync", "vfs", "writeback")));

    /** Each library, by import prefix, and the packages it may be used in (with their subpackages). */
    private static final Map<String, Set<String>> LIBRARY_HOME = Map.of(
            "org.lmdbjava", Set.of("meta"),
            "ru.serce.jnrfuse", Set.of("fuse"),
            "software.amazon", Set.of("store.s3"),
            "com.github.benmanes", Set.of("cache"),
            "io.prometheus", Set.of("metrics"),
            // jnr-ffi: the FUSE bindings, and the one libc binding (os/Libc: sd_notify's socket,
            // statvfs, syncfs, a second /dev/fuse descriptor)
            "jnr.ffi", Set.of("fuse", "os"));

    @Test
    void everyPackageImportsOnlyTheLayersItMayUse() throws IOException {
        List<String> violations = new ArrayList<>();
        for (Path file : sources()) {
            String pkg = packageOf(file);
            String layer = pkg.contains(".") ? pkg.substring(0, pkg.indexOf('.')) : pkg;
            Set<String> allowed = MAY_IMPORT.get(layer);
            if (allowed == null) {
                violations.add(file + ": package " + pkg + " is not in the layer table of this test (add it)");
                continue;
            }
            for (String imported : imports(file)) {
                if (imported.startsWith("io.stratafs.")) {
                    String rest = imported.substring("io.stratafs.".length());
                    String target = rest.substring(0, rest.indexOf('.'));
                    if (!target.equals(layer) && !allowed.contains(target)) {
                        violations.add(file + ": " + layer + " imports " + imported);
                    }
                }
            }
        }
        assertEquals(List.of(), violations);
    }

    @Test
    void everyLibraryIsUsedInItsOnePlace() throws IOException {
        List<String> violations = new ArrayList<>();
        for (Path file : sources()) {
            String pkg = packageOf(file);
            for (String imported : imports(file)) {
                for (Map.Entry<String, Set<String>> lib : LIBRARY_HOME.entrySet()) {
                    if (imported.startsWith(lib.getKey() + ".")
                            && lib.getValue().stream().noneMatch(home -> pkg.equals(home) || pkg.startsWith(home + "."))) {
                        violations.add(file + ": " + imported + " outside " + lib.getValue());
                    }
                }
            }
        }
        assertEquals(List.of(), violations);
    }

    private static List<Path> sources() throws IOException {
        try (Stream<Path> walk = Files.walk(SOURCES)) {
            return walk.filter(p -> p.toString().endsWith(".java")).sorted().toList();
        }
    }

    /** The package below io.stratafs, e.g. "store.s3" (the file's directory). */
    private static String packageOf(Path file) {
        return SOURCES.relativize(file.getParent()).toString().replace('/', '.');
    }

    private static List<String> imports(Path file) throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            Matcher m = IMPORT.matcher(line);
            if (m.find()) {
                out.add(m.group(1));
            }
        }
        return out;
    }
}
