package io.stratafs.cli;

import io.stratafs.config.Sizes;
import java.util.List;
import java.util.Map;

/**
 * {@code stratafs status PATH} for a file or directory inside a mount: whether it (and everything
 * below it) is in every storage target. Exit status 0 when all is, {@link #PENDING} when something is
 * pending, 1 for an error, as for every command.
 */
final class PathStatus {
    static final int PENDING = 3;

    private PathStatus() {
    }

    static int run(MountedPath path, boolean json) {
        String reply = ControlChannel.request(ControlChannel.socketFor(path.mountpoint()), "synced " + PathRequests.encode(path.inner()));
        if (reply == null) {
            throw new IllegalStateException("the StrataFS mount at " + path.mountpoint() + " does not answer on its control socket");
        }
        if (reply.startsWith("error")) {
            throw new IllegalStateException(reply.substring(5).trim());
        }
        Map<String, Object> m = JsonReader.object(reply);
        boolean synced = Boolean.TRUE.equals(m.get("synced"));
        System.out.println(json ? reply : human(path, m));
        return synced ? 0 : PENDING;
    }

    @SuppressWarnings("unchecked")
    static String human(MountedPath path, Map<String, Object> m) {
        StringBuilder out = new StringBuilder(path.given().toString()).append(": ");
        if (!"directory".equals(m.get("type"))) {
            return out.append(m.get("state")).toString();
        }
        long files = num(m, "files");
        long dirs = num(m, "directories");
        if (Boolean.TRUE.equals(m.get("synced"))) {
            return out.append("yes: ").append(plural(files, "file", "files")).append(" and ")
                    .append(plural(dirs, "directory", "directories")).append(", all in every target").toString();
        }
        out.append("no: ").append(num(m, "filesPending")).append(" of ").append(plural(files, "file", "files"))
                .append(" and ").append(num(m, "directoriesPending")).append(" of ").append(plural(dirs, "directory", "directories"))
                .append(" pending; ").append(Sizes.human(num(m, "bytesPending"))).append(" and ")
                .append(plural(num(m, "journalEntriesPending"), "journal entry", "journal entries")).append(" not yet in every target");
        for (Object o : (List<Object>) m.get("pending")) {
            Map<String, Object> p = (Map<String, Object>) o;
            out.append(System.lineSeparator()).append("  ").append(path.shown((String) p.get("path"))).append(": ").append(p.get("state"));
        }
        if (Boolean.TRUE.equals(m.get("pendingTruncated"))) {
            out.append(System.lineSeparator()).append("  (only the first ").append(PathRequests.MAX_LISTED)
                    .append(" pending paths are named)");
        }
        return out.toString();
    }

    static long num(Map<String, Object> m, String key) {
        Object v = m.get(key);
        return v instanceof Number n ? n.longValue() : 0;
    }

    static String plural(long n, String one, String many) {
        return n + " " + (n == 1 ? one : many);
    }
}
