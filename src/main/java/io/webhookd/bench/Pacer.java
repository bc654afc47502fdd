package io.webhookd.bench;

import java.util.List;
import java.util.concurrent.locks.LockSupport;

/** Releases due events of the open-loop schedule to their lanes, on a thread of its own. */
final class Pacer extends Thread {

  private final List<Lane> lanes;
  private final Lane.Schedule schedule;
  private final Lane.Run run;
  private volatile long maxLagNanos;
  private volatile double meanLagNanos;

  Pacer(List<Lane> lanes, Lane.Schedule schedule, Lane.Run run) {
    super("loadgen-pacer");
    setDaemon(true);
    this.lanes = lanes;
    this.schedule = schedule;
    this.run = run;
  }

  @Override
  public void run() {
    long next = 0;
    long batches = 0;
    double lagSum = 0;
    long maxLag = 0;
    int n = lanes.size();
    // The schedule is planned for the longest warm-up; the run ends with its measured window.
    while (next < schedule.total() && schedule.intended(next) < run.measureEnd()) {
      long now = System.nanoTime();
      long due = schedule.dueAt(now);
      if (due > next) {
        long lag = now - schedule.intended(next);
        maxLag = Math.max(maxLag, lag);
        lagSum += lag;
        batches++;
        for (int k = 0; k < n; k++) {
          // Events next, next + 1, ... go round-robin to the lanes.
          long first = next + Math.floorMod(k - next, n);
          if (first < due) {
            lanes.get(k).sendScheduled(first, due, n, schedule);
          }
        }
        next = due;
        continue;
      }
      LockSupport.parkNanos(schedule.intended(next) - now);
    }
    maxLagNanos = maxLag;
    meanLagNanos = batches == 0 ? 0 : lagSum / batches;
  }

  /** How late the pacer released events: mean and max over the run, in nanoseconds. */
  double[] lag() {
    return new double[] {meanLagNanos, maxLagNanos};
  }
}
