package io.webhookd.chaos;

import io.webhookd.bench.ProcessSample;
import java.util.Locale;

/**
 * How busy the machine's CPUs were over an interval, and how much of that was this run (the driver
 * and the processes it started and reaped: servers, CLI runs) rather than other processes.
 * PostgreSQL and Redis count as other processes: they also serve whatever else runs on the
 * machine. Linux only; elsewhere it reports nothing.
 */
final class CpuShare {

  private final ProcessSample machine;
  private final ProcessSample run;

  private CpuShare(ProcessSample machine, ProcessSample run) {
    this.machine = machine;
    this.run = run;
  }

  /** Now; compare two with {@link #since}. Children count once reaped, so take the later one after they exit. */
  static CpuShare now() {
    return new CpuShare(ProcessSample.ofMachine(), ProcessSample.ofThisProcessAndReapedChildren());
  }

  /**
   * "machine busy 1.62 of 2 cores: this run 0.95, other processes 0.67", averages over the
   * interval since {@code start}; empty when /proc could not be read.
   */
  String since(CpuShare start) {
    double busy = ProcessSample.cores(start.machine, machine);
    double ours = ProcessSample.cores(start.run, run);
    if (Double.isNaN(busy) || Double.isNaN(ours)) {
      return "";
    }
    int cores = Runtime.getRuntime().availableProcessors();
    return String.format(Locale.ROOT, "machine busy %.2f of %d cores on average: this run %.2f, other processes %.2f",
        busy, cores, Math.min(ours, busy), Math.max(0, busy - ours));
  }
}
