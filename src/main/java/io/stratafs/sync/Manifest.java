package io.stratafs.sync;

import io.stratafs.meta.BlockRef;
import java.util.List;

/**
 * One whole version of a file's content: its size and its blocks by index (holes have no entry),
 * in index order. Blocks are content-addressed, so a manifest names bytes, never a place.
 */
public record Manifest(long size, List<Block> blocks) {
    public static final Manifest EMPTY = new Manifest(0, List.of());

    public Manifest {
        blocks = List.copyOf(blocks);
    }

    /** The block at one index of the file. */
    public record Block(long index, BlockRef ref) {
    }
}
