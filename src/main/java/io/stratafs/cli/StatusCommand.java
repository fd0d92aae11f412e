package io.stratafs.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code stratafs status}: asks a running mount for its figures, or whether a path inside it is in every target. */
@Command(name = "status", mixinStandardHelpOptions = true, description = {
    "Show cache, dirty data and upload backlog of a mounted volume (MOUNTPOINT),",
    "or whether a file or directory tree inside one is in every storage target (PATH):",
    "exit status 0 when all of it is, " + PathStatus.PENDING + " when something is pending, 1 on error."})
final class StatusCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MOUNTPOINT|PATH")
    Path mountpoint;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    /** Turns the status JSON (flat fields, then a list of target objects) into aligned lines. */
    static String human(String json) {
        StringBuilder out = new StringBuilder();
        String body = json.substring(1, json.length() - 1);
        int targets = body.indexOf(",\"targets\":[");
        for (String field : splitTop(targets < 0 ? body : body.substring(0, targets))) {
            appendField(out, "", field);
        }
        if (targets >= 0) {
            String list = body.substring(targets + 12, body.length() - 1);
            for (String obj : list.split("\\},\\{")) {
                out.append("target\n");
                for (String field : splitTop(obj.replace("{", "").replace("}", ""))) {
                    appendField(out, "  ", field);
                }
            }
        }
        return out.toString().stripTrailing();
    }

    private static java.util.List<String> splitTop(String s) {
        java.util.List<String> parts = new java.util.ArrayList<>();
        boolean quoted = false;
        int depth = 0;
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' && (i == 0 || s.charAt(i - 1) != '\\')) {
                quoted = !quoted;
            } else if (!quoted && (c == '[' || c == ']' || c == '{' || c == '}')) {
                depth += c == '[' || c == '{' ? 1 : -1;
            } else if (c == ',' && !quoted && depth == 0) {
                parts.add(s.substring(start, i));
                start = i + 1;
            }
        }
        if (start < s.length()) {
            parts.add(s.substring(start));
        }
        return parts;
    }

    private static void appendField(StringBuilder out, String indent, String field) {
        int colon = field.indexOf("\":");
        String key = field.substring(1, colon);
        String value = field.substring(colon + 2);
        if (key.equals("sites") && value.startsWith("{")) {
            appendSites(out, JsonReader.object(value));
            return;
        }
        if (value.startsWith("{")) {
            // a nested object (errors by kind) reads best as kind=count pairs on one line
            value = value.substring(1, value.length() - 1).replace("\":", "=").replace("\"", "").replace(",", " ");
        }
        value = value.replaceAll("^\"|\"$", "");
        out.append(indent).append(String.format("%-30s %s%n", key, value));
    }

    /** The site, the tree digest, then one block per peer with its lag, last exchange and any error or held burst. */
    @SuppressWarnings("unchecked")
    private static void appendSites(StringBuilder out, java.util.Map<String, Object> sites) {
        java.util.List<Object> peers = (java.util.List<Object>) sites.getOrDefault("peers", java.util.List.of());
        for (java.util.Map.Entry<String, Object> e : sites.entrySet()) {
            if (!e.getKey().equals("peers") && e.getValue() != null) {
                out.append(String.format("%-30s %s%n", e.getKey().equals("site") ? "site" : "site " + e.getKey(), e.getValue()));
            }
        }
        for (Object o : peers) {
            java.util.Map<String, Object> peer = (java.util.Map<String, Object>) o;
            out.append("peer ").append(peer.get("site")).append('\n');
            for (java.util.Map.Entry<String, Object> e : peer.entrySet()) {
                if (!e.getKey().equals("site")) {
                    out.append(String.format("  %-28s %s%n", e.getKey(), e.getValue()));
                }
            }
        }
    }

    @Override
    public Integer call() {
        Path abs = mountpoint.toAbsolutePath().normalize();
        if (!Mounts.isFuseMounted(abs)) {
            if (!java.nio.file.Files.exists(abs)) {
                throw new IllegalArgumentException(abs + " does not exist (give a mount point, or a file or directory inside a mounted volume)");
            }
            MountedPath inside = MountedPath.locate(abs, false);
            if (inside != null) {
                return PathStatus.run(inside, json);
            }
        }
        String reply = ControlChannel.request(ControlChannel.socketFor(mountpoint), "status");
        if (reply == null) {
            throw new IllegalStateException("no StrataFS mount is running at " + mountpoint.toAbsolutePath());
        }
        if (reply.startsWith("error")) {
            throw new IllegalStateException(reply.substring(5).trim());
        }
        System.out.println(json ? reply : human(reply));
        return 0;
    }
}
