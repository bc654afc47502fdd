package io.webhookd.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.ParseResult;

/**
 * Operator commands print their results; the service's and libraries' INFO logs (store opened,
 * Vert.x, Flyway) would only be noise around them. So every command but {@code serve} logs warnings
 * and errors only (to stderr, as always), unless {@code WEBHOOKD_LOG_LEVEL} asks for more.
 */
final class QuietLogging {

  private QuietLogging() {
  }

  static void unlessServing(ParseResult parseResult) {
    ParseResult leaf = parseResult;
    while (leaf.hasSubcommand()) {
      leaf = leaf.subcommand();
    }
    String level = System.getenv("WEBHOOKD_LOG_LEVEL");
    if (leaf.commandSpec().userObject() instanceof ServeCommand || (level != null && !level.isBlank())) {
      return;
    }
    ILoggerFactory factory = LoggerFactory.getILoggerFactory();
    if (factory instanceof LoggerContext context) {
      for (Logger logger : context.getLoggerList()) {
        if (logger.getLevel() != null && !logger.getLevel().isGreaterOrEqual(Level.WARN)) {
          logger.setLevel(Level.WARN);
        }
      }
      context.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(Level.WARN);
    }
  }
}
