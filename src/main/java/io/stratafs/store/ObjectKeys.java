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
        return BLOCKS_PREFIX + hashHex.substring(0, 2) + "/" + hashHex;
    }

    public static final String BLOCKS_PREFIX = "blocks/";
    public static final String TRASH_PREFIX = "trash/";

    /** The SHA-256 (hex) of a block or trashed block key. */
    public static String blockHex(String key) {
        return key.substring(key.lastIndexOf('/') + 1);
    }

    /** Where gc keeps a block it found unreferenced until a later run may delete it (docs/FORMAT.md). */
    public static String trashedBlock(String hashHex) {
        return TRASH_PREFIX + hashHex.substring(0, 2) + "/" + hashHex;
    }

    /** The site of a {@code journal/<site>/...}, {@code oplog/<site>/...} or {@code checkpoint/<site>/...} key. */
    public static String siteOf(String key) {
        int first = key.indexOf('/');
        return key.substring(first + 1, key.indexOf('/', first + 1));
    }

    public static String journalPrefix(String site) {
        return "journal/" + site + "/";
    }

    /** A journal segment holding records {@code first..last} (inclusive) of a site. */
    public static String journalSegment(String site, long first, long last) {
        return journalPrefix(site) + String.format("%016x-%016x", first, last);
    }

    /**
     * A site's logical operation log (journal/LogSegments), beside its physical journal: both number
     * their records from 1, so they live under prefixes of their own.
     */
    public static String opLogPrefix(String site) {
        return "oplog/" + site + "/";
    }

    /** A logical log segment holding operations {@code first..last} (inclusive) of a site. */
    public static String opLogSegment(String site, long first, long last) {
        return opLogPrefix(site) + String.format("%016x-%016x", first, last);
    }

    /** The last sequence number of a segment named by {@link #journalSegment} or {@link #opLogSegment}. */
    public static long segmentLast(String key) {
        return Long.parseUnsignedLong(key.substring(key.lastIndexOf('-') + 1), 16);
    }

    public static long segmentFirst(String key) {
        String name = key.substring(key.lastIndexOf('/') + 1);
        return Long.parseUnsignedLong(name.substring(0, name.indexOf('-')), 16);
    }

    /**
     * The one object a site overwrites: a small hint of how far its logical log goes, so a peer
     * polls one tiny object instead of listing the log (journal/SiteHead).
     */
    public static String siteHead(String site) {
        return "head/" + site;
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

    public static final String SITES_PREFIX = "sites/";

    /** A site's registration: its name and where its storage is (every site's storage holds every site's). */
    public static String site(String name) {
        return SITES_PREFIX + name;
    }

    /** The site name of a {@link #site} key. */
    public static String siteName(String key) {
        return key.substring(SITES_PREFIX.length());
    }
}
