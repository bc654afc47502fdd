package io.webhookd.chaos;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * Steady load from this process: {@code threads} senders, together about {@code rate} new events a
 * second, each event a fresh one of the configured mix. Like OpenPhone, a sender retries an event
 * that got no 2xx (a refused connection, a reset, a 503) with a fresh signature until it is
 * acknowledged or the load's retry deadline passes; the targets are tried in turn, so with two
 * instances a dead one's events go to the other. Some acknowledged events are sent again on purpose:
 * those must be answered {@code duplicate_ignored}. Every 2xx goes to the {@link Ledger}.
 */
final class Load {

  /** Fractions of the mix; the rest is message.delivered. */
  record Mix(double received, double call, double poison) {
  }

  private static final double RESEND_FRACTION = 0.02;

  private final Events events;
  private final Ledger ledger;
  private final Supplier<List<ServerProc>> targets;
  private final double rate;
  private final int threads;
  private final Mix mix;
  private final HttpClient client;
  private final List<Thread> senders = new ArrayList<>();
  private final AtomicLong targetTurn = new AtomicLong();
  private volatile boolean stopping;
  private volatile long retryDeadline = Long.MAX_VALUE;

  final LongAdder sent = new LongAdder();
  final LongAdder attempts = new LongAdder();
  final LongAdder resent = new LongAdder();
  final LongAdder resentIgnored = new LongAdder();
  final LongAdder gaveUp = new LongAdder();
  final Map<String, LongAdder> failures = new ConcurrentHashMap<>();
  final Map<String, LongAdder> answers = new ConcurrentHashMap<>();

  Load(Events events, Ledger ledger, Supplier<List<ServerProc>> targets, double rate, int threads, Mix mix) {
    this.events = events;
    this.ledger = ledger;
    this.targets = targets;
    this.rate = rate;
    this.threads = threads;
    this.mix = mix;
    this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(2)).build();
  }

  void start() {
    double perThread = rate / threads;
    long intervalNanos = (long) (1e9 / perThread);
    for (int i = 0; i < threads; i++) {
      Thread t = new Thread(() -> sendLoop(intervalNanos), "chaos-sender-" + i);
      t.setDaemon(true);
      senders.add(t);
      t.start();
    }
  }

  /** No new events; events not yet acknowledged are retried for at most {@code grace}; waits for that. */
  void stop(Duration grace) throws InterruptedException {
    retryDeadline = System.nanoTime() + grace.toNanos();
    stopping = true;
    for (Thread t : senders) {
      t.join(grace.toMillis() + 15_000);
    }
  }

  private void sendLoop(long intervalNanos) {
    long next = System.nanoTime() + ThreadLocalRandom.current().nextLong(intervalNanos);
    while (!stopping) {
      long wait = next - System.nanoTime();
      if (wait > 0) {
        sleepNanos(wait);
        continue;
      }
      next += intervalNanos;
      if (System.nanoTime() - next > 2_000_000_000L) {
        next = System.nanoTime(); // after a long outage, resume the rate instead of bursting
      }
      Events.Event event = events.next(pick());
      sent.increment();
      ledger.sent(event);
      deliver(event, false);
    }
  }

  private Events.Kind pick() {
    double r = ThreadLocalRandom.current().nextDouble();
    if (r < mix.poison()) {
      return Events.Kind.POISON;
    }
    if (r < mix.poison() + mix.received()) {
      return Events.Kind.RECEIVED;
    }
    if (r < mix.poison() + mix.received() + mix.call()) {
      return Events.Kind.CALL;
    }
    return Events.Kind.DELIVERED;
  }

  /** Sends until a 2xx or the retry deadline. */
  private void deliver(Events.Event event, boolean resend) {
    while (true) {
      List<ServerProc> all = targets.get();
      ServerProc target = all.get((int) (targetTurn.getAndIncrement() % all.size()));
      attempts.increment();
      long start = System.nanoTime();
      try {
        HttpRequest request = HttpRequest.newBuilder(target.webhookUri())
            .timeout(Duration.ofSeconds(15))
            .header("content-type", "application/json")
            .header("openphone-signature", events.sign(event.body()))
            .POST(HttpRequest.BodyPublishers.ofByteArray(event.body()))
            .build();
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        long nanos = System.nanoTime() - start;
        int status = response.statusCode();
        if (status >= 200 && status < 300) {
          String answer = answerOf(response.body());
          count(answers, (resend ? "resend " : "") + status + " " + answer);
          if (resend) {
            if ("duplicate_ignored".equals(answer)) {
              resentIgnored.increment();
            }
            ledger.resendAcknowledged(event, answer);
          } else {
            ledger.acknowledged(event, answer, nanos);
            if (event.kind() != Events.Kind.POISON && ThreadLocalRandom.current().nextDouble() < RESEND_FRACTION) {
              resent.increment();
              deliver(event, true);
            }
          }
          return;
        }
        count(failures, "HTTP " + status);
      } catch (IOException e) {
        count(failures, e.getClass().getSimpleName());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      if (System.nanoTime() > retryDeadline) {
        gaveUp.increment();
        return;
      }
      sleepNanos(200_000_000L + ThreadLocalRandom.current().nextLong(100_000_000L));
    }
  }

  private static String answerOf(String body) {
    int at = body.indexOf("\"status\":\"");
    if (at < 0) {
      return "?";
    }
    int from = at + 10;
    int to = body.indexOf('"', from);
    return to < 0 ? "?" : body.substring(from, to);
  }

  private static void count(Map<String, LongAdder> counters, String key) {
    counters.computeIfAbsent(key, k -> new LongAdder()).increment();
  }

  static String describe(Map<String, LongAdder> counters) {
    Map<String, Long> sorted = new TreeMap<>();
    counters.forEach((k, v) -> sorted.put(k, v.sum()));
    return sorted.isEmpty() ? "none" : sorted.toString();
  }

  private static void sleepNanos(long nanos) {
    try {
      Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
