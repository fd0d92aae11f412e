package io.stratafs.store;

/**
 * Object names inside a target (docs/FORMAT.md): the one place that knows the layout.
 */
public final class ObjectKeys {
    public static final String VOLUME = "stratafs.volume";

    private ObjectKeys() {
    }

    /** {@code blocks/ab/ab12...}: two hex characters of fan-out keep directory listings short. */
    public static String block(String hashHex) {
        return "blocks/" + hashHex.substring(0, 2) + "/" + hashHex;
    }

    public static String journalPrefix(String site) {
        return "journal/" + site + "/";
    }

    /** A journal segment holding records {@code first..last} (inclusive) of a site. */
    public static String journalSegment(String site, long first, long last) {
        return journalPrefix(site) + String.format("%016x-%016x", first, last);
    }

    /** The last sequence number of a segment named by {@link #journalSegment}. */
    public static long segmentLast(String key) {
        return Long.parseUnsignedLong(key.substring(key.lastIndexOf('-') + 1), 16);
    }

    public static long segmentFirst(String key) {
        String name = key.substring(key.lastIndexOf('/') + 1);
        return Long.parseUnsignedLong(name.substring(0, name.indexOf('-')), 16);
    }

    public static String checkpointPrefix(String site) {
        return "checkpoint/" + site + "/";
    }

    /** A checkpoint of the namespace as of journal record {@code seq}. */
    public static String checkpoint(String site, long seq) {
        return checkpointPrefix(site) + String.format("%016x", seq);
    }

    public static long checkpointSeq(String key) {
        return Long.parseUnsignedLong(key.substring(key.lastIndexOf('/') + 1), 16);
    }
}
