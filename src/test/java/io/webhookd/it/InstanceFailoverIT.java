package io.webhookd.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.webhookd.it.PgInbox.Audit;
import io.webhookd.it.Traffic.Sent;
import io.webhookd.testing.Fixtures;
import io.webhookd.testing.PrivateDatabase;
import io.webhookd.testing.TestSigner;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two instances on one PostgreSQL; one is killed with {@code kill -9} in the middle of a burst while
 * it holds claims. Its leases (2 s here) expire and the survivor takes its work over: every
 * acknowledged event is processed, none twice, and the dead instance's unfinished work is not taken
 * before its lease ran out.
 *
 * <p>To be sure the killed instance holds claims at the moment it dies (its handlers are fast), the
 * test puts a brake on some of them: it locks a few of the events the instance has claimed
 * ({@code FOR UPDATE SKIP LOCKED}, as a slow handler's row would be), so that the instance cannot
 * finish them, kills the instance, and only then lets go.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class InstanceFailoverIT {

  private static final int EVENTS = 2_000;
  private static final int CONVERSATIONS = 100;
  private static final int MAX_IN_FLIGHT = 32;
  private static final Duration LEASE = Duration.ofSeconds(2);
  private static final int SIGKILL_EXIT_CODE = 128 + 9;
  private static final String SECRET = TestSigner.newOpenPhoneSecret();

  @TempDir
  Path dataDir;

  @Test
  void theSurvivorFinishesEveryAcknowledgedEventOnceAfterTheKilledInstancesLeasesExpire() throws Exception {
    try (PrivateDatabase pg = PrivateDatabase.create("failover")) {
      run(pg);
    }
  }

  private void run(PrivateDatabase pg) throws Exception {
    String pgUrl = pg.url();
    AtomicBoolean stopSending = new AtomicBoolean();
    ServerProcess a = null;
    ServerProcess b = null;
    try {
      a = instance("a", pgUrl).start();
      b = instance("b", pgUrl).start();
      Map<String, WebhookClient> clients = Map.of("a", new WebhookClient(a), "b", new WebhookClient(b));

      // -- a burst, half to each instance, from a sender thread
      String conversationTag = UUID.randomUUID().toString().substring(0, 8);
      Instant firstEvent = Instant.now().minusSeconds(3_600);
      Map<String, byte[]> bodies = new java.util.LinkedHashMap<>();
      for (int i = 0; i < EVENTS; i++) {
        String id = Bodies.uniqueId("failover");
        String fixture = i % 2 == 0 ? Fixtures.LEGACY_V3_CALL_COMPLETED : Fixtures.LEGACY_V2_MESSAGE_DELIVERED;
        bodies.put(id, Bodies.inConversation(fixture, id, "CNfo" + conversationTag + "x" + (i % CONVERSATIONS),
            firstEvent.plusMillis(i * 100L)));
      }
      List<String> ids = List.copyOf(bodies.keySet());
      String prefix = PgInbox.prefixOf(ids.get(0));
      Traffic traffic = new Traffic(SECRET, MAX_IN_FLIGHT);
      CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> {
        for (int i = 0; i < EVENTS && !stopSending.get(); i++) {
          String target = i % 2 == 0 ? "a" : "b";
          traffic.send(target, clients.get(target), ids.get(i), bodies.get(ids.get(i)));
        }
      });

      long killedAt;
      Map<Long, Long> brakedLeaseUntil = new HashMap<>();
      long leaseOfAUntil;
      try (Connection brake = pg.jdbc()) {
        brake.setAutoCommit(false);
        // -- wait until a has acknowledged a good part of its share and holds claims; hold some fast
        List<long[]> held = Poll.until("instance a, well into the burst, holding claims on events",
            Duration.ofSeconds(45),
            () -> acknowledgedBy(traffic, "a") < EVENTS / 8 ? List.<long[]>of() : lockClaimsOf(brake, "a", prefix),
            rows -> !rows.isEmpty());
        held.forEach(row -> brakedLeaseUntil.put(row[0], row[1]));
        int sentBeforeKill = traffic.outcomes().size();
        long acknowledgedByA = acknowledgedBy(traffic, "a");

        // -- kill -9, mid-stream
        assertThat(a.kill()).isEqualTo(SIGKILL_EXIT_CODE);
        killedAt = System.currentTimeMillis();
        leaseOfAUntil = leaseHorizon(brake, "a");
        brake.commit();
        System.out.printf("InstanceFailoverIT: killed a after %d answers (%d acknowledged by a), holding %d braked"
            + " claims (a's leases until +%d ms)%n", sentBeforeKill, acknowledgedByA, held.size(),
            leaseOfAUntil - killedAt);
        assertThat(sentBeforeKill).as("answers before the kill: the kill is mid-stream").isLessThan(EVENTS);
      }

      sender.get(90, TimeUnit.SECONDS);
      List<Sent> firstRound = traffic.awaitAll(Duration.ofSeconds(60));
      assertThat(firstRound.stream().filter(s -> s.answered() && !s.acknowledged()).toList())
          .as("answers other than 2xx (%s)\n%s", Traffic.summary(firstRound), b.logTail()).isEmpty();
      Set<String> acknowledged = Traffic.acknowledgedIds(firstRound);
      assertThat(acknowledged).as("acknowledged events").isNotEmpty();

      // -- the sender retries what got no answer, on the surviving instance
      List<String> retried = ids.stream().filter(id -> !acknowledged.contains(id)).toList();
      Traffic retries = new Traffic(SECRET, MAX_IN_FLIGHT);
      retried.forEach(id -> retries.send("b", clients.get("b"), id, bodies.get(id)));
      List<Sent> secondRound = retries.awaitAll(Duration.ofSeconds(60));
      assertThat(secondRound.stream().filter(s -> !s.acknowledged()).toList())
          .as("retries on b not answered 2xx (%s)\n%s", Traffic.summary(secondRound), b.logTail()).isEmpty();

      try (PgInbox db = PgInbox.open(pg, prefix)) {
        // -- every event stored once; every acknowledged one among them
        assertThat(db.events().keySet()).as("stored events").containsAll(acknowledged);
        assertThat(db.eventRows()).as("rows in inbox_events").isEqualTo(EVENTS);
        assertThat(db.distinctEvents()).isEqualTo(EVENTS);

        // -- all processed eventually, by the survivor for what a left behind
        Poll.until("every event processed after a's leases expired", Duration.ofSeconds(40), db::statusCounts,
            counts -> counts.equals(Map.of("processed", (long) EVENTS)));
        long doneAt = System.currentTimeMillis();

        Map<String, Long> processedRows = db.auditCounts("processed");
        assertThat(processedRows).as("events with a 'processed' audit row").hasSize(EVENTS);
        assertThat(processedRows.entrySet().stream().filter(e -> e.getValue() != 1).map(Map.Entry::toString).toList())
            .as("events processed more than once").isEmpty();

        List<Audit> processed = db.audit("processed");
        assertThat(processed.stream().filter(r -> "a".equals(r.actor()) && r.at() > killedAt).toList())
            .as("events marked processed by a after it was killed").isEmpty();

        // -- what a held when it died: taken over by b, and not before a's lease ran out
        Map<Long, String> eventIdOf = db.events().values().stream()
            .collect(Collectors.toMap(PgInbox.Event::id, PgInbox.Event::eventId));
        Map<String, Audit> processedBy = processed.stream().collect(Collectors.toMap(Audit::eventId, r -> r));
        List<Audit> claims = db.audit("processing");
        List<String> problems = new ArrayList<>();
        brakedLeaseUntil.forEach((inboxId, leaseUntil) -> {
          String eventId = eventIdOf.get(inboxId);
          Audit done = processedBy.get(eventId);
          if (done == null || !"b".equals(done.actor())) {
            problems.add(eventId + " processed by " + (done == null ? "nobody" : done.actor()));
          }
          List<Audit> claimsByB = claims.stream()
              .filter(c -> c.eventId().equals(eventId) && "b".equals(c.actor())).toList();
          if (claimsByB.size() != 1) {
            problems.add(eventId + " claimed " + claimsByB.size() + " times by b: " + claimsByB);
          } else if (claimsByB.get(0).at() < leaseUntil) {
            problems.add(eventId + " taken over at " + claimsByB.get(0).at() + ", before a's lease ended at "
                + leaseUntil);
          }
        });
        assertThat(problems).as("events a held when it was killed").isEmpty();
        System.out.printf("InstanceFailoverIT: %d acknowledged in the burst, %d retried on b; all processed %d ms"
                + " after the kill; processed by %s%n", acknowledged.size(), retried.size(), doneAt - killedAt,
            processed.stream().collect(Collectors.groupingBy(Audit::actor, Collectors.counting())));
      }

      assertThat(b.stop()).as("exit code of b\n%s", b.logTail()).isZero();
    } finally {
      stopSending.set(true);
      if (a != null) {
        a.close();
      }
      if (b != null) {
        b.close();
      }
    }
  }

  private ServerProcess.Builder instance(String id, String pgUrl) {
    return ServerProcess.builder(dataDir.resolve(id)).label("failover-" + id)
        .secrets(SECRET)
        .env("WEBHOOKD_PG_URL", pgUrl)
        .env("WEBHOOKD_PROCESS_INSTANCE_ID", id)
        .env("WEBHOOKD_PROCESS_LEASE", LEASE.toMillis() + "ms");
  }

  private static long acknowledgedBy(Traffic traffic, String target) {
    return traffic.outcomes().stream().filter(s -> s.acknowledged() && s.target().equals(target)).count();
  }

  /**
   * In {@code tx}'s open transaction: locks events claimed by {@code owner} that nobody else has
   * locked (at most 20), and returns [inbox id, lease until] of each; rolls back and returns nothing
   * when there are none.
   */
  private static List<long[]> lockClaimsOf(Connection tx, String owner, String prefix) throws Exception {
    List<long[]> rows = new ArrayList<>();
    try (PreparedStatement lock = tx.prepareStatement(
        "SELECT id, lease_until FROM inbox_events WHERE status = 'processing' AND lease_owner = ?"
            + " AND event_id LIKE ? ORDER BY id LIMIT 20 FOR UPDATE SKIP LOCKED")) {
      lock.setString(1, owner);
      lock.setString(2, prefix + "%");
      try (ResultSet rs = lock.executeQuery()) {
        while (rs.next()) {
          rows.add(new long[] {rs.getLong(1), rs.getLong(2)});
        }
      }
    }
    if (rows.isEmpty()) {
      tx.rollback();
    }
    return rows;
  }

  /** The latest lease {@code owner} holds on any event or partition. */
  private static long leaseHorizon(Connection c, String owner) throws Exception {
    try (PreparedStatement select = c.prepareStatement(
        "SELECT GREATEST((SELECT MAX(lease_until) FROM inbox_events WHERE lease_owner = ?),"
            + " (SELECT MAX(lease_until) FROM partition_leases WHERE owner = ?))")) {
      select.setString(1, owner);
      select.setString(2, owner);
      try (ResultSet rs = select.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
