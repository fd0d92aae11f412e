package io.stratafs.sync;

import java.util.ArrayList;
import java.util.List;

/** Splitting, checking and joining the absolute paths local operations take ("/", "/a/b"). */
public final class Paths {
    private Paths() {
    }

    /** The path of {@code name} inside directory {@code dir}. */
    public static String child(String dir, String name) {
        return dir.equals("/") ? "/" + name : dir + "/" + name;
    }

    /** The components of an absolute path; empty for the root. */
    static List<String> parts(String path) throws SyncException {
        if (path == null || !path.startsWith("/")) {
            throw new SyncException(SyncException.Kind.EINVAL, "path " + path + " is not absolute (it must start with /)");
        }
        List<String> out = new ArrayList<>();
        for (String p : path.split("/")) {
            if (p.isEmpty()) {
                continue;
            }
            if (p.indexOf('\0') >= 0) {
                throw new SyncException(SyncException.Kind.EINVAL, "path " + path.replace('\0', '?') + " contains a NUL byte");
            }
            if (p.equals(".") || p.equals("..")) {
                throw new SyncException(SyncException.Kind.EINVAL, "path " + path + " contains " + p + " (give a plain path)");
            }
            out.add(p);
        }
        return out;
    }

    /** The canonical form of a path: "/" or "/a/b", no repeated or trailing slash. */
    static String normal(String path) throws SyncException {
        return "/" + String.join("/", parts(path));
    }

    /** The parent path of a path that is not the root. */
    static String parent(String path) throws SyncException {
        List<String> p = parts(path);
        return "/" + String.join("/", p.subList(0, p.size() - 1));
    }

    /** The last component of a path that is not the root. */
    static String name(String path) throws SyncException {
        List<String> p = parts(path);
        return p.get(p.size() - 1);
    }
}
