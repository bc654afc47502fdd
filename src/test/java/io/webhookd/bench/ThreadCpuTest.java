package io.webhookd.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.webhookd.store.sqlite.SqliteInboxStore;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/** {@link ThreadCpu}: the server's CPU told apart by what its threads do. */
class ThreadCpuTest {

  @Test
  void threadsAreToldApartByTheirKernelNames() {
    assertThat(ThreadCpu.role("vert.x-eventloo")).isEqualTo(ThreadCpu.EVENT_LOOPS);
    assertThat(ThreadCpu.role(SqliteInboxStore.WRITER_THREAD)).isEqualTo(ThreadCpu.SQLITE_WRITER);
    assertThat(ThreadCpu.role("sqlite-wal-sync")).isEqualTo(ThreadCpu.OTHER);
    assertThat(ThreadCpu.role("GC Thread#1")).isEqualTo(ThreadCpu.GC);
    assertThat(ThreadCpu.role("G1 Conc#0")).isEqualTo(ThreadCpu.GC);
    assertThat(ThreadCpu.role("C2 CompilerThre")).isEqualTo(ThreadCpu.JIT);
    assertThat(ThreadCpu.role("vert.x-worker-t")).isEqualTo(ThreadCpu.OTHER);
  }

  @Test
  void perEventIsEachRolesCpuBetweenTheSamplesOverTheEvents() {
    ThreadCpu before = new ThreadCpu(Map.of(ThreadCpu.EVENT_LOOPS, 1_000_000L, ThreadCpu.GC, 0L));
    ThreadCpu after = new ThreadCpu(Map.of(ThreadCpu.EVENT_LOOPS, 3_000_000L, ThreadCpu.GC, 500_000L,
        ThreadCpu.SQLITE_WRITER, 4_000_000L));

    assertThat(ThreadCpu.microsPerEvent(before, after, 100)).containsExactlyInAnyOrderEntriesOf(Map.of(
        ThreadCpu.EVENT_LOOPS, 20.0, ThreadCpu.GC, 5.0, ThreadCpu.SQLITE_WRITER, 40.0));
    assertThat(ThreadCpu.microsPerEvent(null, after, 100)).isEmpty();
    assertThat(ThreadCpu.microsPerEvent(before, after, 0)).isEmpty();
  }

  /** A busy thread of this JVM named as the writer is: its CPU shows under that role. */
  @Test
  @EnabledOnOs(OS.LINUX)
  void aThreadsCpuIsReadFromProc() throws Exception {
    long pid = ProcessHandle.current().pid();
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long busyNanos = Duration.ofMillis(300).toNanos();
    CountDownLatch spun = new CountDownLatch(1);
    CountDownLatch sampled = new CountDownLatch(1);
    Thread writer = new Thread(() -> {
      long start = threads.getCurrentThreadCpuTime();
      double x = 0;
      while (threads.getCurrentThreadCpuTime() - start < busyNanos) {
        x += Math.sqrt(x + 1);
      }
      spun.countDown();
      try {
        // Alive until sampled: a thread's time leaves /proc/<pid>/task with it.
        sampled.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, SqliteInboxStore.WRITER_THREAD);
    ThreadCpu before = ThreadCpu.of(pid);
    writer.start();
    assertThat(spun.await(30, TimeUnit.SECONDS)).isTrue();
    ThreadCpu after = ThreadCpu.of(pid);
    sampled.countDown();
    writer.join();

    long spent = after.cpuNanosByRole().getOrDefault(ThreadCpu.SQLITE_WRITER, 0L)
        - before.cpuNanosByRole().getOrDefault(ThreadCpu.SQLITE_WRITER, 0L);
    assertThat(spent).as("CPU ns of the sqlite-writer thread, in %s", after).isBetween(250_000_000L, 400_000_000L);
  }
}
