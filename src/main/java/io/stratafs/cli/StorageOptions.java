package io.stratafs.cli;

import io.stratafs.store.LocalDirStore;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/** Options shared by commands that open a volume's storage targets. */
final class StorageOptions {
    private StorageOptions() {
    }

    static List<ObjectStore> open(String storage) throws StoreException {
        List<ObjectStore> out = new ArrayList<>();
        for (String part : storage.split(",")) {
            String p = part.trim();
            if (p.startsWith("file://")) {
                out.add(new LocalDirStore(Paths.get(p.substring("file://".length()))));
            } else if (p.contains("://")) {
                throw new StoreException("unsupported storage \"" + p + "\": use a directory, file:///path or s3://bucket[/prefix]");
            } else {
                out.add(new LocalDirStore(Paths.get(p)));
            }
        }
        return out;
    }
}
