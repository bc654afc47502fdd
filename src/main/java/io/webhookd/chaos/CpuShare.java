package io.webhookd.chaos;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * How busy the machine's CPUs were over an interval, and how much of that was this run (the driver
 * and the processes it started and reaped: servers, CLI runs) rather than other processes, from
 * {@code /proc/stat} and {@code /proc/self/stat}. PostgreSQL and Redis count as other processes:
 * they also serve whatever else runs on the machine. Linux only; elsewhere it reports nothing.
 */
final class CpuShare {

  private final long machineBusy;
  private final long machineTotal;
  private final long ours;
  private final long nanos;

  private CpuShare(long machineBusy, long machineTotal, long ours, long nanos) {
    this.machineBusy = machineBusy;
    this.machineTotal = machineTotal;
    this.ours = ours;
    this.nanos = nanos;
  }

  /** Now; compare two with {@link #since}. Children count once reaped, so take the later one after they exit. */
  static CpuShare now() {
    long busy = -1;
    long total = -1;
    long self = -1;
    try {
      // cpu  user nice system idle iowait irq softirq steal ...  (clock ticks)
      String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      total = 0;
      for (int i = 1; i <= Math.min(8, cpu.length - 1); i++) {
        total += Long.parseLong(cpu[i]);
      }
      busy = total - Long.parseLong(cpu[4]) - Long.parseLong(cpu[5]);
      // Fields after the command name (which may hold spaces): utime, stime, cutime, cstime are 14-17.
      String stat = Files.readString(Path.of("/proc/self/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
      self = Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
    } catch (IOException | RuntimeException e) {
      busy = -1;
    }
    return new CpuShare(busy, total, self, System.nanoTime());
  }

  /**
   * "machine busy 1.62 of 2 cores: this run 0.95, other processes 0.67", averages over the
   * interval since {@code start}; empty when /proc could not be read.
   */
  String since(CpuShare start) {
    if (machineBusy < 0 || start.machineBusy < 0 || machineTotal <= start.machineTotal) {
      return "";
    }
    int cores = Runtime.getRuntime().availableProcessors();
    double totalTicks = machineTotal - start.machineTotal;
    double busy = cores * (machineBusy - start.machineBusy) / totalTicks;
    // Ticks of this run over the wall time in ticks (USER_HZ, 100 on Linux).
    double seconds = (nanos - start.nanos) / 1e9;
    double run = seconds <= 0 ? 0 : (ours - start.ours) / 100.0 / seconds;
    return String.format(Locale.ROOT, "machine busy %.2f of %d cores on average: this run %.2f, other processes %.2f",
        busy, cores, Math.min(run, busy), Math.max(0, busy - run));
  }
}
