package io.stratafs.sync;

/**
 * One move of a directory's name in the move log, kept so a move that arrives late can be put in
 * its place in OpId order: {@code before} is the placement the move replaced (to undo it) and
 * {@code applied} says whether it took effect or was skipped because it would have made a cycle.
 */
public record MoveRecord(OpId id, OpId edge, Placement to, Placement before, boolean applied) {
}
