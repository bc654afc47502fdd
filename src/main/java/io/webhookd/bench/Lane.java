package io.webhookd.bench;

import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.net.URI;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;

/**
 * The requests of one event loop: its own HTTP client connections, counters and latency histogram,
 * all touched only on that event loop (no locks on the hot path). Every request is a distinct
 * signed event; its latency runs from its intended send time (the schedule in rate mode, the actual
 * send in max mode) to the end of its response, whatever the outcome.
 */
final class Lane {

  /** Latencies above this are recorded as this (a request times out long before). */
  static final long HIGHEST_NANOS = TimeUnit.MINUTES.toNanos(2);
  private static final CharSequence SIGNATURE = HttpHeaders.createOptimized("openphone-signature");
  private static final CharSequence JSON = HttpHeaders.createOptimized("application/json");
  private static final int MAX_ERROR_KINDS = 20;

  /**
   * The run's time line ({@code timeLine}: start, measure start, measure end, in
   * {@link System#nanoTime()} terms, set before the first send; the window may be moved later while
   * it still lies ahead, never once it has begun) and its shared counters.
   */
  record Run(AtomicLongArray timeLine, long maxRequests, AtomicLong sequence,
      AtomicLong inFlight, LongAdder acknowledged, LongAdder failed) {

    long measureEnd() {
      return timeLine.get(2);
    }

    boolean measured(long intendedNanos) {
      return intendedNanos >= timeLine.get(1) && intendedNanos < timeLine.get(2);
    }
  }

  private final Context context;
  private final HttpClient client;
  private final RequestOptions request;
  private final SyntheticEvents events;
  private final Run run;

  private final Histogram latency = new Histogram(HIGHEST_NANOS, 3);
  private long sent;
  private long acknowledged;
  private long measured;
  private long measuredAcknowledged;
  private long measuredErrors;
  private long signedInline;
  private final Map<String, Long> statusErrors = new TreeMap<>();
  private final Map<String, Long> failures = new TreeMap<>();

  Lane(Context context, HttpClient client, URI url, long timeoutMillis, SyntheticEvents events, Run run) {
    this.context = context;
    this.client = client;
    this.events = events;
    this.run = run;
    this.request = new RequestOptions()
        .setMethod(HttpMethod.POST)
        .setHost(url.getHost())
        .setPort(url.getPort())
        .setURI(url.getRawPath())
        .setConnectTimeout(timeoutMillis)
        .setIdleTimeout(timeoutMillis);
  }

  Context context() {
    return context;
  }

  /**
   * One unsigned GET to the endpoint (the server answers 405 and stores nothing), to load and
   * initialise the client (classes, resolver, first connection) before the clock starts; its
   * outcome is ignored.
   */
  Future<Void> prime() {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> client.request(new RequestOptions(request).setMethod(HttpMethod.GET))
        .compose(req -> req.send().compose(resp -> resp.end()))
        .onComplete(ar -> done.complete()));
    return done.future();
  }

  /** Closed loop: {@code users} requests in flight, each followed by the next until the end. */
  void startUsers(int users) {
    context.runOnContext(v -> {
      for (int i = 0; i < users; i++) {
        nextClosed();
      }
    });
  }

  private void nextClosed() {
    long now = System.nanoTime();
    if (now >= run.measureEnd()) {
      return;
    }
    long index = run.sequence().getAndIncrement();
    if (index >= run.maxRequests()) {
      return;
    }
    send(index, now, true);
  }

  /** Open loop: sends events {@code from, from + step, ...} below {@code to} of the schedule. */
  void sendScheduled(long from, long to, int step, Schedule schedule) {
    context.runOnContext(v -> {
      for (long i = from; i < to; i += step) {
        send(i, schedule.intended(i), false);
      }
    });
  }

  private void send(long index, long intendedNanos, boolean closedLoop) {
    sent++;
    if (!events.isPresigned(index)) {
      signedInline++;
    }
    byte[] body = events.body(index);
    String signature = events.signature(index);
    run.inFlight().incrementAndGet();
    client.request(request)
        .compose(req -> {
          req.putHeader(HttpHeaders.CONTENT_TYPE, JSON);
          req.putHeader(SIGNATURE, signature);
          return req.send(Buffer.buffer(body));
        })
        .compose(resp -> {
          int status = resp.statusCode();
          return resp.end().map(v -> status);
        })
        .onComplete(ar -> {
          record(intendedNanos, System.nanoTime(), ar);
          run.inFlight().decrementAndGet();
          if (closedLoop) {
            if (ar.succeeded()) {
              nextClosed();
            } else {
              // A refused connection fails at once: back off a little rather than spin.
              context.owner().setTimer(1, id -> nextClosed());
            }
          }
        });
  }

  private void record(long intendedNanos, long doneNanos, AsyncResult<Integer> ar) {
    boolean inWindow = run.measured(intendedNanos);
    boolean ok = ar.succeeded() && ar.result() / 100 == 2;
    if (ok) {
      acknowledged++;
      run.acknowledged().increment();
    } else {
      run.failed().increment();
      String kind = ar.succeeded() ? String.valueOf(ar.result()) : describe(ar.cause());
      Map<String, Long> into = ar.succeeded() ? statusErrors : failures;
      if (into.containsKey(kind) || into.size() < MAX_ERROR_KINDS) {
        into.merge(kind, 1L, Long::sum);
      } else {
        into.merge("other", 1L, Long::sum);
      }
    }
    if (inWindow) {
      measured++;
      if (ok) {
        measuredAcknowledged++;
      } else {
        measuredErrors++;
      }
      latency.recordValue(Math.max(0, Math.min(doneNanos - intendedNanos, HIGHEST_NANOS)));
    }
  }

  private static String describe(Throwable failure) {
    String message = String.valueOf(failure.getMessage());
    if (message.length() > 80) {
      message = message.substring(0, 80) + "...";
    }
    return failure.getClass().getSimpleName() + ": " + message;
  }

  /** The lane's figures, read on its event loop once it has gone quiet. */
  Future<Result> result() {
    Promise<Result> promise = Promise.promise();
    context.runOnContext(v -> promise.complete(new Result(latency.copy(), sent, acknowledged, measured,
        measuredAcknowledged, measuredErrors, signedInline, new TreeMap<>(statusErrors),
        new TreeMap<>(failures))));
    return promise.future();
  }

  /** One lane's figures. */
  record Result(Histogram latency, long sent, long acknowledged, long measured, long measuredAcknowledged,
      long measuredErrors, long signedInline, Map<String, Long> statusErrors, Map<String, Long> failures) {
  }

  /** The open-loop schedule: event {@code i} is due at {@code start + i / rate}. */
  record Schedule(long start, double periodNanos, long total) {

    long intended(long index) {
      return start + (long) (index * periodNanos);
    }

    /** How many events are due at {@code now} (their intended time is not after it). */
    long dueAt(long now) {
      if (now < start) {
        return 0;
      }
      return Math.min(total, (long) ((now - start) / periodNanos) + 1);
    }
  }
}
