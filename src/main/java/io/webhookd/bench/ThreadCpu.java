package io.webhookd.bench;

import io.webhookd.store.sqlite.SqliteInboxStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * CPU time of a process's threads at one instant, summed by what they do, from
 * {@code /proc/<pid>/task/<tid>/stat} (Linux). The kernel keeps 15 characters of a thread's name, which
 * is enough to tell the event loops, the SQLite writer, the garbage collector and the JIT apart:
 * where the server's CPU per webhook goes, not only how much it is.
 */
record ThreadCpu(Map<String, Long> cpuNanosByRole) {

  static final String EVENT_LOOPS = "event_loops";
  static final String SQLITE_WRITER = "sqlite_writer";
  static final String GC = "gc";
  static final String JIT = "jit";
  static final String OTHER = "other";

  /** Null when there is no such process or no /proc. */
  static ThreadCpu of(Long pid) {
    if (pid == null) {
      return null;
    }
    Map<String, Long> byRole = new TreeMap<>();
    try (Stream<Path> tasks = Files.list(Path.of("/proc", pid.toString(), "task"))) {
      tasks.forEach(task -> {
        try {
          String stat = Files.readString(task.resolve("stat"));
          String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
          byRole.merge(role(name), ProcessSample.cpuNanos(ProcessSample.statFields(stat)), Long::sum);
        } catch (IOException | RuntimeException e) {
          // The thread ended while being read: its time is lost to this sample only.
        }
      });
    } catch (IOException | RuntimeException e) {
      return null;
    }
    return new ThreadCpu(byRole);
  }

  /** What a thread does, by its (kernel-truncated) name. */
  static String role(String name) {
    if (name.startsWith("vert.x-eventloo")) {
      return EVENT_LOOPS;
    }
    if (name.equals(SqliteInboxStore.WRITER_THREAD)) {
      return SQLITE_WRITER;
    }
    if (name.startsWith("GC Thread") || name.startsWith("G1 ") || name.startsWith("ZGC") || name.startsWith("Shenandoah")) {
      return GC;
    }
    if (name.startsWith("C1 CompilerThre") || name.startsWith("C2 CompilerThre")) {
      return JIT;
    }
    return OTHER;
  }

  /** Microseconds of CPU per event of each role between two samples; empty without both samples. */
  static Map<String, Double> microsPerEvent(ThreadCpu before, ThreadCpu after, long events) {
    Map<String, Double> perEvent = new TreeMap<>();
    if (before == null || after == null || events <= 0) {
      return perEvent;
    }
    after.cpuNanosByRole().forEach((role, nanos) -> perEvent.put(role,
        (nanos - before.cpuNanosByRole().getOrDefault(role, 0L)) / 1e3 / events));
    return perEvent;
  }
}
