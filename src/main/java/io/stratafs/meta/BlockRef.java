package io.stratafs.meta;

/** A block of a file: its content hash (SHA-256) and length. */
public record BlockRef(byte[] hash, int length) {
    public byte[] encode() {
        byte[] b = new byte[36];
        System.arraycopy(hash, 0, b, 0, 32);
        Bytes.putInt(b, 32, length);
        return b;
    }

    public static BlockRef decode(byte[] b) {
        return new BlockRef(java.util.Arrays.copyOf(b, 32), Bytes.getInt(b, 32));
    }

    public String hex() {
        return Bytes.hex(hash);
    }
}
