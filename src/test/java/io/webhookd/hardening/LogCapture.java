package io.webhookd.hardening;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;
import org.slf4j.LoggerFactory;
import org.slf4j.event.KeyValuePair;

/** Collects what one logger (and its children) logs while a test runs; close to detach. */
final class LogCapture implements AutoCloseable {

  private final Logger logger;
  private final Level levelBefore;
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  /** Captures from DEBUG up: a stored event's request id is logged at DEBUG. */
  private LogCapture(String name) {
    this.logger = (Logger) LoggerFactory.getLogger(name);
    this.levelBefore = logger.getLevel();
    logger.setLevel(Level.DEBUG);
    appender.setName("test-capture-" + System.identityHashCode(this));
    appender.start();
    logger.addAppender(appender);
  }

  static LogCapture of(Class<?> type) {
    return new LogCapture(type.getName());
  }

  static LogCapture of(String name) {
    return new LogCapture(name);
  }

  /** A snapshot of the events so far. */
  List<ILoggingEvent> events() {
    synchronized (appender.list) {
      return List.copyOf(appender.list);
    }
  }

  List<ILoggingEvent> matching(Predicate<ILoggingEvent> filter) {
    return events().stream().filter(filter).toList();
  }

  /** The value of a structured key (e.g. {@code request_id}) on an event, or null. */
  static String keyValue(ILoggingEvent event, String key) {
    List<KeyValuePair> pairs = event.getKeyValuePairs();
    if (pairs == null) {
      return null;
    }
    return pairs.stream().filter(p -> p.key.equals(key)).map(p -> Objects.toString(p.value)).findFirst().orElse(null);
  }

  /** Events whose structured key-values include all of these. */
  List<ILoggingEvent> withKeyValues(Map<String, String> wanted) {
    return matching(e -> wanted.entrySet().stream().allMatch(w -> w.getValue().equals(keyValue(e, w.getKey()))));
  }

  @Override
  public void close() {
    logger.setLevel(levelBefore);
    logger.detachAppender(appender);
    appender.stop();
  }
}
