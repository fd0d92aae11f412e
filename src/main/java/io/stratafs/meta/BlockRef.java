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

    /** Equal when hash bytes and length are: a block is named by its content. */
    @Override
    public boolean equals(Object o) {
        return o instanceof BlockRef r && length == r.length && java.util.Arrays.equals(hash, r.hash);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(hash) * 31 + length;
    }

    @Override
    public String toString() {
        return hex() + ":" + length;
    }

    public String hex() {
        return Bytes.hex(hash);
    }
}
