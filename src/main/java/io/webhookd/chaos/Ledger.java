package io.webhookd.chaos;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * What the senders were told, and the check of it against the store. Every event that got a 2xx
 * must have exactly one {@code inbox_events} row; after processing settles it must be
 * {@code processed} with exactly one {@code processed} audit row and exactly one CRM row (a
 * {@code messages} row per message id, a {@code calls} row per call id), or, for an event whose
 * handler fails permanently, {@code dead} with exactly one open dead letter and no processed audit
 * row. Anything missing is lost; anything twice is duplicated. Rows twice are looked for over the
 * whole store, not only the acknowledged events.
 */
final class Ledger {

  /** A connection to the scenario's store; each call opens a new one. */
  interface Db {
    Connection open() throws SQLException;
  }

  private final Map<String, Events.Event> sent = new ConcurrentHashMap<>();
  private final Map<String, Events.Event> acknowledged = new ConcurrentHashMap<>();
  private final Map<String, String> answers = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<Long> ackMicros = new ConcurrentLinkedQueue<>();
  private final Set<String> resendsNotIgnored = ConcurrentHashMap.newKeySet();

  void sent(Events.Event event) {
    sent.put(event.eventId(), event);
  }

  void acknowledged(Events.Event event, String answer, long nanos) {
    acknowledged.put(event.eventId(), event);
    answers.put(event.eventId(), answer);
    ackMicros.add(nanos / 1000);
  }

  void resendAcknowledged(Events.Event event, String answer) {
    if (!"duplicate_ignored".equals(answer)) {
      resendsNotIgnored.add(event.eventId() + "=" + answer);
    }
  }

  int sentCount() {
    return sent.size();
  }

  int acknowledgedCount() {
    return acknowledged.size();
  }

  long poisonAcknowledged() {
    return acknowledged.values().stream().filter(e -> e.kind() == Events.Kind.POISON).count();
  }

  /** The q-quantile of the 2xx latencies, in milliseconds. */
  double ackLatencyMillis(double q) {
    List<Long> all = new ArrayList<>(ackMicros);
    if (all.isEmpty()) {
      return Double.NaN;
    }
    Collections.sort(all);
    return all.get(Math.min(all.size() - 1, (int) Math.ceil(q * all.size()) - 1)) / 1000.0;
  }

  /** Waits until nothing is pending or processing (at most {@code timeout}); returns what remains. */
  static long settle(Db db, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long left = -1;
    while (System.nanoTime() < deadline) {
      try (Connection c = db.open(); Statement s = c.createStatement();
          ResultSet r = s.executeQuery("SELECT COUNT(*) FROM inbox_events WHERE status IN ('pending', 'processing')")) {
        r.next();
        left = r.getLong(1);
        if (left == 0) {
          return 0;
        }
      } catch (SQLException e) {
        // the store may be briefly unavailable (a cut, a restart): look again
      }
      Thread.sleep(500);
    }
    return left;
  }

  /** The outcome of one check. */
  static final class Result {
    int sent;
    int acknowledged;
    int stored;
    int processed;
    int dead;
    int storedWithout2xx;
    final Set<String> lost = new HashSet<>();
    final Set<String> duplicated = new HashSet<>();
    final List<String> problems = new ArrayList<>();
    int resendsNotIgnored;

    void problem(Set<String> kind, String eventId, String what) {
      kind.add(eventId);
      if (problems.size() < 25) {
        problems.add(eventId + ": " + what);
      }
    }
  }

  /** Reads the store and checks every acknowledged event, and the whole store for duplicates. */
  Result check(Db db) throws SQLException {
    Result result = new Result();
    result.sent = sent.size();
    result.acknowledged = acknowledged.size();
    result.resendsNotIgnored = resendsNotIgnored.size();
    for (String r : resendsNotIgnored) {
      if (result.problems.size() < 25) {
        result.problems.add("a resend of an acknowledged event was answered " + r + " (expected duplicate_ignored)");
      }
    }
    Map<String, Integer> rows = new HashMap<>();
    Map<String, String> status = new HashMap<>();
    Map<String, Integer> processedAudits;
    Map<String, Integer> replayedAudits;
    Map<String, Integer> messages;
    Map<String, Integer> calls;
    Map<String, Integer> openDeadLetters;
    Map<String, Integer> deadLetters;
    try (Connection c = db.open()) {
      try (Statement s = c.createStatement();
          ResultSet r = s.executeQuery("SELECT event_id, status FROM inbox_events WHERE source = 'openphone'")) {
        while (r.next()) {
          rows.merge(r.getString(1), 1, Integer::sum);
          status.put(r.getString(1), r.getString(2));
        }
      }
      processedAudits = counts(c, "SELECT event_id, COUNT(*) FROM event_audit WHERE state = 'processed' GROUP BY event_id");
      replayedAudits = counts(c, "SELECT event_id, COUNT(*) FROM event_audit WHERE state = 'replayed' GROUP BY event_id");
      messages = counts(c, "SELECT provider_id, COUNT(*) FROM messages GROUP BY provider_id");
      calls = counts(c, "SELECT provider_id, COUNT(*) FROM calls GROUP BY provider_id");
      openDeadLetters = counts(c, "SELECT event_id, COUNT(*) FROM dead_letters WHERE resolved_at IS NULL GROUP BY event_id");
      deadLetters = counts(c, "SELECT event_id, COUNT(*) FROM dead_letters GROUP BY event_id");
    }
    for (Events.Event e : acknowledged.values()) {
      String id = e.eventId();
      int n = rows.getOrDefault(id, 0);
      if (n == 0) {
        result.problem(result.lost, id, "acknowledged (" + answers.get(id) + ") but no inbox_events row");
        continue;
      }
      result.stored++;
      if (n > 1) {
        result.problem(result.duplicated, id, n + " inbox_events rows");
      }
      String st = status.get(id);
      int audits = processedAudits.getOrDefault(id, 0);
      if (e.kind() == Events.Kind.POISON) {
        if ("dead".equals(st)) {
          result.dead++;
        } else {
          result.problem(result.lost, id, "expected dead (handler fails permanently), status " + st);
        }
        int open = openDeadLetters.getOrDefault(id, 0);
        if (open == 0) {
          result.problem(result.lost, id, "no open dead letter");
        } else if (open > 1) {
          result.problem(result.duplicated, id, open + " open dead letters");
        }
        if (audits != 0) {
          result.problem(result.duplicated, id, audits + " processed audit rows for an event that cannot be processed");
        }
        continue;
      }
      if ("processed".equals(st)) {
        result.processed++;
      } else {
        result.problem(result.lost, id, "status " + st + " after processing settled");
      }
      if (audits == 0) {
        result.problem(result.lost, id, "no processed audit row");
      } else if (audits > 1) {
        result.problem(result.duplicated, id, audits + " processed audit rows");
      }
      Map<String, Integer> effects = e.kind() == Events.Kind.CALL ? calls : messages;
      int effect = effects.getOrDefault(e.providerId(), 0);
      if (effect == 0) {
        result.problem(result.lost, id, "no " + (e.kind() == Events.Kind.CALL ? "calls" : "messages") + " row for "
            + e.providerId());
      } else if (effect > 1) {
        result.problem(result.duplicated, id, effect + " rows for " + e.providerId());
      }
    }
    // Duplicates anywhere, acknowledged or not.
    rows.forEach((id, n) -> {
      if (n > 1) {
        result.problem(result.duplicated, id, n + " inbox_events rows");
      }
      if (!acknowledged.containsKey(id) && sent.containsKey(id)) {
        result.storedWithout2xx++;
      }
    });
    processedAudits.forEach((id, n) -> {
      if (n > 1) {
        result.problem(result.duplicated, id, n + " processed audit rows");
      }
    });
    deadLetters.forEach((id, n) -> {
      if (n > 1) {
        result.problem(result.duplicated, id, n + " dead_letters rows");
      }
    });
    replayedAudits.forEach((id, n) -> {
      if (n > 1) {
        result.problem(result.duplicated, id, n + " replayed audit rows (one replay was asked for)");
      }
    });
    messages.forEach((pid, n) -> {
      if (n > 1) {
        result.problem(result.duplicated, pid, n + " messages rows");
      }
    });
    calls.forEach((pid, n) -> {
      if (n > 1) {
        result.problem(result.duplicated, pid, n + " calls rows");
      }
    });
    return result;
  }

  /** A single number the store answers, such as a count. */
  static long count(Db db, String sql) throws SQLException {
    try (Connection c = db.open(); Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getLong(1);
    }
  }

  /** How many acknowledged poison events have exactly one 'replayed' audit row. */
  static int replayedOnce(Db db, Ledger ledger) throws SQLException {
    try (Connection c = db.open()) {
      Map<String, Integer> replayed = counts(c,
          "SELECT event_id, COUNT(*) FROM event_audit WHERE state = 'replayed' GROUP BY event_id");
      int n = 0;
      for (Events.Event e : ledger.acknowledged.values()) {
        if (e.kind() == Events.Kind.POISON && replayed.getOrDefault(e.eventId(), 0) == 1) {
          n++;
        }
      }
      return n;
    }
  }

  private static Map<String, Integer> counts(Connection c, String sql) throws SQLException {
    Map<String, Integer> counts = new HashMap<>();
    try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
      while (r.next()) {
        counts.put(r.getString(1), r.getInt(2));
      }
    }
    return counts;
  }
}
