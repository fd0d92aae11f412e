package io.stratafs.sync.sim;

/**
 * A schedule broke a rule. {@code check} names the rule (diverged, versions, nlink, ...): the
 * shrinker keeps a smaller schedule only if it breaks the same one.
 */
final class SimFailure extends AssertionError {
    final String check;
    /** The steps the failing run took and the tree its first site presented then; set by the simulation. */
    String trace = "";

    SimFailure(String check, String message, Throwable cause) {
        super("[" + check + "] " + message, cause);
        this.check = check;
    }

    SimFailure(String check, String message) {
        this(check, message, null);
    }
}
