/**
 * JMH microbenchmarks of the hot paths issue 9 changes: a namespace commit, a path lookup, getattr,
 * a block read from each cache tier, and the site log's share of a commit. Each runs over the real
 * classes (LMDB in a temporary directory, no mocks) and prints figures; none is an assertion.
 * Built and run only with {@code mvn -Pjmh} (README, "Microbenchmarks (JMH)"); nothing in
 * {@code src/main} imports this package.
 */
package io.stratafs.bench;
