package io.stratafs.store;

import io.stratafs.store.s3.S3Location;
import io.stratafs.store.s3.S3Store;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/** Opens the targets named by a STORAGE argument: paths, file:// URLs and s3:// URLs, joined by ','. */
public final class StoreFactory {
    private StoreFactory() {
    }

    public static List<ObjectStore> open(String storage, StoreOptions options) throws StoreException {
        List<ObjectStore> out = new ArrayList<>();
        try {
            // -1 keeps trailing empty parts, so "a," is refused rather than read as "a"
            for (String part : storage.split(",", -1)) {
                out.add(openOne(part.trim(), options));
            }
        } catch (StoreException | RuntimeException e) {
            out.forEach(ObjectStore::close);
            throw e;
        }
        return out;
    }

    private static ObjectStore openOne(String spec, StoreOptions options) throws StoreException {
        if (spec.isEmpty()) {
            throw new StoreException("empty storage target in the list (check for a stray ',')");
        }
        if (spec.startsWith("file://")) {
            String path = spec.substring("file://".length());
            if (!path.startsWith("/")) {
                throw new StoreException("\"" + spec + "\" needs an absolute path after file://, as in file:///srv/strata");
            }
            return new LocalDirStore(Paths.get(path));
        }
        if (spec.startsWith("s3://")) {
            return new S3Store(S3Location.parse(spec), options);
        }
        if (spec.contains("://")) {
            throw new StoreException("unsupported storage \"" + spec + "\": use a directory, file:///path or s3://bucket[/prefix]");
        }
        return new LocalDirStore(Paths.get(spec));
    }

    public static String describeAll(List<ObjectStore> targets) {
        List<String> names = new ArrayList<>();
        for (ObjectStore t : targets) {
            names.add(t.describe());
        }
        return String.join(",", names);
    }
}
