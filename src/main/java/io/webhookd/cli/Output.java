package io.webhookd.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.webhookd.store.DeadLetterQueue;
import io.webhookd.store.EventLog;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * How the operator commands print: aligned tables and {@code key: value} blocks for people,
 * {@code --json} for scripts; times in ISO-8601 UTC. Data goes to stdout, diagnostics to stderr.
 */
final class Output {

  /** Longest error text a table shows; {@code show} and {@code --json} give it whole. */
  static final int TABLE_ERROR_WIDTH = 100;

  private Output() {
  }

  /** To the second, for tables; "-" when absent. */
  static String time(Long epochMillis) {
    return epochMillis == null ? "-" : Instant.ofEpochMilli(epochMillis).truncatedTo(ChronoUnit.SECONDS).toString();
  }

  /** To the millisecond, for detail and JSON; null when absent. */
  static String preciseTime(Long epochMillis) {
    return epochMillis == null ? null : Instant.ofEpochMilli(epochMillis).toString();
  }

  /** Whitespace runs collapsed to one space, cut to {@code max} characters (0: no cut). */
  static String oneLine(String text, int max) {
    if (text == null) {
      return "";
    }
    String line = text.strip().replaceAll("\\s+", " ");
    return max > 0 && line.length() > max ? line.substring(0, max - 3) + "..." : line;
  }

  /** Columns padded to their widest cell; the last column is not padded. */
  static void table(PrintWriter out, List<String> headers, List<List<String>> rows) {
    int[] widths = new int[headers.size()];
    List<List<String>> all = new ArrayList<>();
    all.add(headers);
    all.addAll(rows);
    for (List<String> row : all) {
      for (int i = 0; i < row.size(); i++) {
        widths[i] = Math.max(widths[i], row.get(i).length());
      }
    }
    for (List<String> row : all) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.size(); i++) {
        String cell = row.get(i);
        line.append(cell);
        if (i < row.size() - 1) {
          line.append(" ".repeat(widths[i] - cell.length() + 2));
        }
      }
      out.println(line.toString().stripTrailing());
    }
  }

  /** {@code label: value} with the values aligned. */
  static void field(PrintWriter out, String label, Object value) {
    out.printf("%-15s %s%n", label + ":", value == null ? "-" : value);
  }

  static void json(PrintWriter out, Object json) {
    out.println(json instanceof JsonObject object ? object.encodePrettily() : ((JsonArray) json).encodePrettily());
  }

  /** The body as text when it is UTF-8 (a JSON body always is), else null. */
  static String text(byte[] body) {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(body)).toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /** {@code body} as text, or {@code body_base64} when it is not UTF-8. */
  static JsonObject putBody(JsonObject json, byte[] body) {
    String text = text(body);
    return text != null ? json.put("body", text) : json.put("body_base64", Base64.getEncoder().encodeToString(body));
  }

  /** Prints a raw body under a heading. */
  static void body(PrintWriter out, byte[] body) {
    String text = text(body);
    out.println(text != null ? "body (" + body.length + " bytes):" : "body (" + body.length + " bytes, not UTF-8, base64):");
    out.println(text != null ? text.stripTrailing() : Base64.getEncoder().encodeToString(body));
  }

  static String eventRef(String source, String eventId) {
    return source + ":" + eventId;
  }

  // ---- shared views of the store's records ------------------------------------------------------

  static JsonObject json(DeadLetterQueue.Entry entry) {
    return new JsonObject()
        .put("id", entry.inboxId())
        .put("source", entry.source())
        .put("event_id", entry.eventId())
        .put("type", entry.type())
        .put("attempts", entry.attempts())
        .put("first_failed_at", preciseTime(entry.firstFailedAt()))
        .put("last_failed_at", preciseTime(entry.lastFailedAt()))
        .put("dead_at", preciseTime(entry.deadAt()))
        .put("error", entry.error())
        .put("resolved_at", preciseTime(entry.resolvedAt()))
        .put("resolution", entry.resolution())
        .put("resolved_by", entry.resolvedBy());
  }

  static JsonObject json(EventLog.Event event) {
    return new JsonObject()
        .put("id", event.inboxId())
        .put("source", event.source())
        .put("event_id", event.eventId())
        .put("type", event.type())
        .put("status", event.status())
        .put("attempts", event.attempts())
        .put("occurred_at", preciseTime(event.occurredAt()))
        .put("received_at", preciseTime(event.receivedAt()))
        .put("updated_at", preciseTime(event.updatedAt()))
        .put("scheme", event.scheme())
        .put("last_error", event.lastError());
  }

  static JsonArray json(List<EventLog.AuditEntry> audit) {
    JsonArray array = new JsonArray();
    for (EventLog.AuditEntry entry : audit) {
      array.add(new JsonObject()
          .put("at", preciseTime(entry.at()))
          .put("state", entry.state())
          .put("attempt", entry.attempt())
          .put("actor", entry.actor())
          .put("detail", entry.detail()));
    }
    return array;
  }

  /** The audit trail as a table, oldest first. */
  static void audit(PrintWriter out, List<EventLog.AuditEntry> audit) {
    out.println("audit trail:");
    List<List<String>> rows = new ArrayList<>();
    for (EventLog.AuditEntry entry : audit) {
      rows.add(List.of(preciseTime(entry.at()), entry.state(), Integer.toString(entry.attempt()),
          entry.actor() == null ? "-" : entry.actor(), oneLine(entry.detail(), 0)));
    }
    table(out, List.of("AT", "STATE", "ATTEMPT", "ACTOR", "DETAIL"), rows);
  }

  /** The dead letters a replay or discard touched, one row each. */
  static void deadLetters(PrintWriter out, List<DeadLetterQueue.Entry> entries) {
    List<List<String>> rows = new ArrayList<>();
    for (DeadLetterQueue.Entry entry : entries) {
      rows.add(List.of(Long.toString(entry.inboxId()), entry.type(), Integer.toString(entry.attempts()),
          eventRef(entry.source(), entry.eventId())));
    }
    table(out, List.of("ID", "TYPE", "ATTEMPTS", "EVENT"), rows);
  }

  static JsonArray jsonDeadLetters(List<DeadLetterQueue.Entry> entries) {
    JsonArray array = new JsonArray();
    entries.forEach(entry -> array.add(json(entry)));
    return array;
  }
}
