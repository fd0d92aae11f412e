package io.stratafs.config;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.UUID;

/**
 * The self-describing record {@code format} writes to every target (object {@code stratafs.volume}):
 * format version, volume UUID and name, block size and the default site name.
 */
public record VolumeRecord(int formatVersion, String uuid, String name, int blockSize, String site) {
    public static final int FORMAT_VERSION = 1;
    public static final int MIN_BLOCK = 64 << 10;
    public static final int MAX_BLOCK = 64 << 20;

    public VolumeRecord {
        if (blockSize < MIN_BLOCK || blockSize > MAX_BLOCK || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("block size must be a power of two from 64K to 64M, got " + blockSize);
        }
        if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new IllegalArgumentException("volume name \"" + name + "\" must be 1-64 letters, digits, '.', '_' or '-'");
        }
        if (!site.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new IllegalArgumentException("site name \"" + site + "\" must be 1-64 letters, digits, '.', '_' or '-'");
        }
    }

    public static VolumeRecord create(String name, int blockSize, String site) {
        return new VolumeRecord(FORMAT_VERSION, UUID.randomUUID().toString(), name, blockSize, site);
    }

    public byte[] encode() {
        String text = "# StrataFS volume record\n"
                + "format.version=" + formatVersion + "\n"
                + "uuid=" + uuid + "\n"
                + "name=" + name + "\n"
                + "block.size=" + blockSize + "\n"
                + "site=" + site + "\n";
        return text.getBytes(StandardCharsets.UTF_8);
    }

    public static VolumeRecord decode(byte[] bytes, String where) {
        Properties p = new Properties();
        try {
            p.load(new StringReader(new String(bytes, StandardCharsets.UTF_8)));
            int version = Integer.parseInt(p.getProperty("format.version", "0"));
            if (version < 1 || version > FORMAT_VERSION) {
                throw new IllegalArgumentException("volume at " + where + " has format version " + version
                        + ", this StrataFS reads versions 1 to " + FORMAT_VERSION);
            }
            return new VolumeRecord(version, p.getProperty("uuid"), p.getProperty("name"),
                    Integer.parseInt(p.getProperty("block.size")), p.getProperty("site"));
        } catch (IOException | NumberFormatException | NullPointerException e) {
            throw new IllegalArgumentException("the volume record at " + where + " is unreadable: " + e.getMessage());
        }
    }
}
