/**
 * Time as StrataFS orders changes: the hybrid logical clock that stamps every operation a site makes.
 * Below {@code cli}, nothing reads the wall clock directly; it is injected, so tests and the
 * multi-site simulation can skew it.
 */
package io.stratafs.clock;
