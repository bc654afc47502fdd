package io.webhookd.it;

import io.webhookd.it.WebhookClient.Answer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * Signed webhooks sent concurrently, at most {@code maxInFlight} at a time (a sender with a bounded
 * connection pool, not thousands of sockets at once), every send and its outcome recorded.
 */
final class Traffic {

  /** One send: to which server, and the answer or the failure (no answer: connection refused, cut off). */
  record Sent(String eventId, String target, long startedAtMillis, long endedAtMillis, Answer answer,
      Throwable failure) {

    boolean answered() {
      return answer != null;
    }

    /** A 2xx: the server promised the event is stored. */
    boolean acknowledged() {
      return answer != null && answer.status() / 100 == 2;
    }

    int status() {
      return answer == null ? -1 : answer.status();
    }

    /** status, or error code, of the answer; "no answer: ..." otherwise. */
    String code() {
      if (answer == null) {
        return "no answer: " + failure;
      }
      try {
        return answer.code();
      } catch (AssertionError notJson) {
        return "not JSON: " + answer.body();
      }
    }

    @Override
    public String toString() {
      return eventId + "->" + target + " " + (answer == null ? "no answer (" + failure + ")"
          : answer.status() + " " + answer.body()) + " after " + (endedAtMillis - startedAtMillis) + " ms";
    }
  }

  private final String secret;
  private final Semaphore permits;
  private final ConcurrentLinkedQueue<CompletableFuture<Sent>> pending = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<Sent> done = new ConcurrentLinkedQueue<>();

  Traffic(String openPhoneSecret, int maxInFlight) {
    this.secret = openPhoneSecret;
    this.permits = new Semaphore(maxInFlight);
  }

  /**
   * Sends {@code body}, signed now with the OpenPhone scheme, once a slot is free (blocks the
   * caller until then). The future never fails: a failure is recorded in {@link Sent}.
   */
  CompletableFuture<Sent> send(String target, WebhookClient client, String eventId, byte[] body) {
    permits.acquireUninterruptibly();
    long started = System.currentTimeMillis();
    CompletableFuture<Answer> answer;
    try {
      answer = client.postWebhookAsync(body, Scheme.OPENPHONE.sign(secret, body, null));
    } catch (RuntimeException e) {
      answer = CompletableFuture.failedFuture(e);
    }
    CompletableFuture<Sent> sent = answer.handle((a, failure) -> {
      permits.release();
      Sent s = new Sent(eventId, target, started, System.currentTimeMillis(), a,
          a == null ? unwrap(failure) : null);
      done.add(s);
      return s;
    });
    pending.add(sent);
    return sent;
  }

  /** Waits until every send so far has its outcome; fails after {@code timeout}. */
  List<Sent> awaitAll(Duration timeout) throws Exception {
    List<CompletableFuture<Sent>> all = new ArrayList<>(pending);
    try {
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      long open = all.stream().filter(f -> !f.isDone()).count();
      throw new AssertionError(open + " of " + all.size() + " sends still had no outcome after " + timeout, e);
    }
    return all.stream().map(CompletableFuture::join).toList();
  }

  /** Every outcome so far. */
  List<Sent> outcomes() {
    return List.copyOf(done);
  }

  /** Ids of events with at least one 2xx among the outcomes. */
  static Set<String> acknowledgedIds(List<Sent> outcomes) {
    return outcomes.stream().filter(Sent::acknowledged).map(Sent::eventId).collect(Collectors.toSet());
  }

  /** Outcomes by event id. */
  static Map<String, List<Sent>> byEvent(List<Sent> outcomes) {
    return outcomes.stream().collect(Collectors.groupingBy(Sent::eventId));
  }

  /** "status or code" to count, for failure messages. */
  static Map<String, Long> summary(List<Sent> outcomes) {
    return outcomes.stream().collect(Collectors.groupingBy(
        s -> s.answer == null ? "no answer" : s.status() + " " + s.code(), Collectors.counting()));
  }

  private static Throwable unwrap(Throwable failure) {
    Throwable t = failure;
    while (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
