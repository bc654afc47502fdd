package io.webhookd.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * CPU time and memory of a process at one instant (Linux /proc, or this JVM's own counters). The
 * chaos runner uses it too, for the share of the machine its runs took.
 */
public record ProcessSample(long nanoTime, long cpuNanos, long rssKb, long hwmKb, long diskWriteBytes) {

  /** /proc counts CPU time in ticks of USER_HZ, which is 100 on every mainstream Linux build. */
  private static final long NANOS_PER_TICK = 10_000_000L;

  static ProcessSample ofThisJvm() {
    long cpu = ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
        ? os.getProcessCpuTime() : -1;
    ProcessSample proc = of(ProcessHandle.current().pid());
    return new ProcessSample(System.nanoTime(), cpu, proc == null ? -1 : proc.rssKb(),
        proc == null ? -1 : proc.hwmKb(), -1);
  }

  /** Null when there is no such process or no /proc. */
  static ProcessSample of(Long pid) {
    if (pid == null) {
      return null;
    }
    try {
      long cpu = cpuNanos(statFields(Path.of("/proc", pid.toString(), "stat")));
      long rss = -1;
      long hwm = -1;
      for (String line : Files.readAllLines(
          Path.of("/proc", pid.toString(), "status"))) {
        if (line.startsWith("VmRSS:")) {
          rss = kb(line);
        } else if (line.startsWith("VmHWM:")) {
          hwm = kb(line);
        }
      }
      // Bytes the process caused to be written to storage (page cache write-back included).
      long written = -1;
      try {
        for (String line : Files.readAllLines(Path.of("/proc", pid.toString(), "io"))) {
          if (line.startsWith("write_bytes:")) {
            written = Long.parseLong(line.substring("write_bytes:".length()).trim());
          }
        }
      } catch (IOException | RuntimeException e) {
        // Not readable (another user's process, or no task I/O accounting): left out.
      }
      return new ProcessSample(System.nanoTime(), cpu, rss, hwm, written);
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /**
   * This process's CPU time together with that of the children it started and reaped (a child
   * counts once it has exited and been waited for); null without /proc.
   */
  public static ProcessSample ofThisProcessAndReapedChildren() {
    try {
      String[] f = statFields(Path.of("/proc/self/stat"));
      // utime, stime, cutime, cstime
      long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
      return new ProcessSample(System.nanoTime(), ticks * NANOS_PER_TICK, -1, -1, -1);
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** The fields of a /proc/PID/stat after the command name (which may hold spaces), from field 3 on. */
  private static String[] statFields(Path stat) throws IOException {
    return statFields(Files.readString(stat));
  }

  /** utime + stime of a process's or a thread's stat fields ({@link #statFields}). */
  static long cpuNanos(String[] statFields) {
    return (Long.parseLong(statFields[11]) + Long.parseLong(statFields[12])) * NANOS_PER_TICK;
  }

  /** As {@link #statFields(Path)}, of a stat line already read. */
  static String[] statFields(String stat) {
    return stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
  }

  /** The CPU time of several processes together (those still running), or null when none is. */
  static ProcessSample ofAll(List<Long> pids) {
    if (pids == null || pids.isEmpty()) {
      return null;
    }
    long cpu = 0;
    boolean any = false;
    for (Long pid : pids) {
      ProcessSample one = of(pid);
      if (one != null) {
        cpu += one.cpuNanos();
        any = true;
      }
    }
    return any ? new ProcessSample(System.nanoTime(), cpu, -1, -1, -1) : null;
  }

  /** CPU time spent by the whole machine (all processes, user + system + irq), or null. */
  public static ProcessSample ofMachine() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long busy = 0;
      // cpu user nice system idle iowait irq softirq steal ...: all but idle and iowait are busy.
      for (int i = 1; i < Math.min(f.length, 9); i++) {
        if (i != 4 && i != 5) {
          busy += Long.parseLong(f[i]);
        }
      }
      return new ProcessSample(System.nanoTime(), busy * NANOS_PER_TICK, -1, -1, -1);
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static long kb(String line) {
    return Long.parseLong(line.replaceAll("[^0-9]", ""));
  }

  /** Bytes written to storage between two samples, or -1. */
  static long diskWrites(ProcessSample before, ProcessSample after) {
    if (before == null || after == null || before.diskWriteBytes() < 0 || after.diskWriteBytes() < 0) {
      return -1;
    }
    return after.diskWriteBytes() - before.diskWriteBytes();
  }

  /** Cores busy on average between two samples. */
  public static double cores(ProcessSample before, ProcessSample after) {
    if (before == null || after == null || before.cpuNanos() < 0 || after.cpuNanos() < 0) {
      return Double.NaN;
    }
    return (double) (after.cpuNanos() - before.cpuNanos()) / (after.nanoTime() - before.nanoTime());
  }
}
