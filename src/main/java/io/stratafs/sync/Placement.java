package io.stratafs.sync;

/** Where a name is: its parent directory, the name itself, and the operation that put it there. */
public record Placement(OpId parent, String name, OpId stamp) {
}
