package io.webhookd.event;

import java.util.HashSet;
import java.util.Set;

/** The event types OpenPhone documents, and the older internal design's own. */
public final class EventTypes {

  public static final Set<String> MESSAGES = Set.of(
      "message.received", "message.sent", "message.delivered", "message.failed", "message.undelivered");
  public static final Set<String> CALLS = Set.of(
      "call.ringing", "call.answered", "call.completed", "call.missed", "call.forwarded",
      "call.recording.completed", "call.voicemail.completed", "call.summary.completed",
      "call.transcript.completed");
  public static final Set<String> CONTACTS = Set.of("contact.updated", "contact.deleted");
  public static final String OPT_OUT = "opt_out";

  /** Every type the service handles. */
  public static Set<String> all() {
    Set<String> all = new HashSet<>(MESSAGES);
    all.addAll(CALLS);
    all.addAll(CONTACTS);
    all.add(OPT_OUT);
    return Set.copyOf(all);
  }

  private EventTypes() {
  }
}
