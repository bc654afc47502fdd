package io.webhookd.ingest;

/**
 * The outcome of checking a request's signature.
 *
 * @param outcome  accepted, or why not
 * @param scheme   the scheme the request claimed (by its headers), or null when it claimed none
 * @param webhookId the Standard Webhooks {@code webhook-id}, the event's idempotency key; else null
 * @param detail   a short reason for the log; never sent to the client
 * @param secretIndex which configured secret signed it (0 is the current one); -1 when refused
 */
public record Verdict(Outcome outcome, String scheme, String webhookId, String detail, int secretIndex) {

  public enum Outcome { ACCEPTED, INVALID_SIGNATURE, STALE_TIMESTAMP }

  public boolean accepted() {
    return outcome == Outcome.ACCEPTED;
  }

  static Verdict accepted(String scheme, String webhookId, int secretIndex) {
    return new Verdict(Outcome.ACCEPTED, scheme, webhookId, null, secretIndex);
  }

  static Verdict invalid(String scheme, String detail) {
    return new Verdict(Outcome.INVALID_SIGNATURE, scheme, null, detail, -1);
  }

  static Verdict stale(String scheme, String detail) {
    return new Verdict(Outcome.STALE_TIMESTAMP, scheme, null, detail, -1);
  }
}
