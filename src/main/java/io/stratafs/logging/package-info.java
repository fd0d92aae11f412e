/**
 * The log backend: slf4j-simple's logger, configured by {@code cli}, with one line per event and
 * syslog priority prefixes when stderr is journald's stream. The only code that knows slf4j-simple;
 * every other package logs through the SLF4J API alone.
 */
package io.stratafs.logging;
