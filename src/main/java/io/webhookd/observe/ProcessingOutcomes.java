package io.webhookd.observe;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Processing outcomes of the last few minutes in this instance, in one-minute buckets, for the
 * success rate readiness reports.
 */
public final class ProcessingOutcomes {

  private static final long BUCKET_MILLIS = 60_000;

  private final int buckets;
  private final AtomicLongArray minutes;
  private final AtomicLongArray successes;
  private final AtomicLongArray failures;

  /** @param windowMinutes how many recent minutes count */
  public ProcessingOutcomes(int windowMinutes) {
    this.buckets = windowMinutes;
    this.minutes = new AtomicLongArray(windowMinutes);
    this.successes = new AtomicLongArray(windowMinutes);
    this.failures = new AtomicLongArray(windowMinutes);
  }

  public void success() {
    bucket(System.currentTimeMillis(), successes);
  }

  /** A failed attempt: retried later or dead-lettered. */
  public void failure() {
    bucket(System.currentTimeMillis(), failures);
  }

  /** Successes and failures within the window ending now. */
  public long[] counts(long now) {
    long minute = now / BUCKET_MILLIS;
    long ok = 0;
    long failed = 0;
    for (int i = 0; i < buckets; i++) {
      if (minute - minutes.get(i) < buckets) {
        ok += successes.get(i);
        failed += failures.get(i);
      }
    }
    return new long[] {ok, failed};
  }

  private void bucket(long now, AtomicLongArray counts) {
    long minute = now / BUCKET_MILLIS;
    int i = (int) (minute % buckets);
    long seen = minutes.get(i);
    if (seen != minute && minutes.compareAndSet(i, seen, minute)) {
      // A new minute takes the bucket over; a count racing this reset may land in either minute.
      successes.set(i, 0);
      failures.set(i, 0);
    }
    counts.incrementAndGet(i);
  }
}
