package io.webhookd.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.webhookd.it.PgInbox.Audit;
import io.webhookd.it.PgInbox.Event;
import io.webhookd.it.Traffic.Sent;
import io.webhookd.testing.Fixtures;
import io.webhookd.testing.PrivateDatabase;
import io.webhookd.testing.TestServices;
import io.webhookd.testing.TestSigner;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two instances of the packaged jar share one PostgreSQL and one Redis. The same events reach both
 * at once (every event twice, each copy to another instance, as a retrying sender behind a load
 * balancer does): each is stored once, processed once, and the instances never work on one
 * conversation at the same time.
 *
 * <p>The instances share a database of this test's own ({@link PrivateDatabase}, on the server of
 * {@code TestServices.postgres()}): other tests truncate the shared test database, and a truncation
 * in the middle of this one would look like lost events.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class MultiInstanceIT {

  private static final int EVENTS = 2_000;
  private static final int CONVERSATIONS = 200;
  private static final int MAX_IN_FLIGHT = 64;
  private static final String SECRET = TestSigner.newOpenPhoneSecret();

  @TempDir
  Path dataDir;

  @Test
  void twoInstancesStoreAndProcessEveryEventOnceAndNeverShareAConversation() throws Exception {
    String redisUrl = TestServices.redis();
    try (PrivateDatabase pg = PrivateDatabase.create("multi")) {
      run(pg, redisUrl);
    }
  }

  private void run(PrivateDatabase pg, String redisUrl) throws Exception {
    String pgUrl = pg.url();

    ServerProcess a = null;
    ServerProcess b = null;
    try {
      a = instance("a", pgUrl, redisUrl).start();
      b = instance("b", pgUrl, redisUrl).start();
      Map<String, WebhookClient> clients = Map.of("a", new WebhookClient(a), "b", new WebhookClient(b));

      // -- the same 2,000 events, each sent twice at once, its copies to different instances
      String conversationTag = UUID.randomUUID().toString().substring(0, 8);
      Instant firstEvent = Instant.now().minusSeconds(3_600);
      Traffic traffic = new Traffic(SECRET, MAX_IN_FLIGHT);
      List<String> ids = new ArrayList<>(EVENTS);
      long sendStart = System.nanoTime();
      for (int i = 0; i < EVENTS; i++) {
        String id = Bodies.uniqueId("multi");
        ids.add(id);
        String fixture = i % 2 == 0 ? Fixtures.LEGACY_V2_MESSAGE_DELIVERED : Fixtures.LEGACY_V3_CALL_COMPLETED;
        byte[] body = Bodies.inConversation(fixture, id, "CNit" + conversationTag + "x" + (i % CONVERSATIONS),
            firstEvent.plusMillis(i * 100L));
        String first = i % 2 == 0 ? "a" : "b";
        String second = i % 2 == 0 ? "b" : "a";
        traffic.send(first, clients.get(first), id, body);
        traffic.send(second, clients.get(second), id, body);
      }
      List<Sent> outcomes = traffic.awaitAll(Duration.ofSeconds(60));
      long sendMillis = (System.nanoTime() - sendStart) / 1_000_000;

      // -- every copy answered 2xx; exactly one copy of each event "queued", the other a duplicate
      List<Sent> notAcknowledged = outcomes.stream().filter(s -> !s.acknowledged()).toList();
      assertThat(notAcknowledged)
          .as("sends not answered 2xx (of %d; %s)\n%s\n%s", outcomes.size(), Traffic.summary(outcomes),
              a.logTail(), b.logTail())
          .isEmpty();
      Map<String, List<Sent>> byEvent = Traffic.byEvent(outcomes);
      List<String> notQueuedOnce = new ArrayList<>();
      byEvent.forEach((id, sends) -> {
        List<String> codes = sends.stream().map(Sent::code).sorted().toList();
        if (!codes.equals(List.of("duplicate_ignored", "queued"))) {
          notQueuedOnce.add(id + " " + sends);
        }
      });
      assertThat(byEvent).hasSize(EVENTS);
      assertThat(notQueuedOnce).as("events whose two copies were not answered queued + duplicate_ignored")
          .isEmpty();

      try (PgInbox db = PgInbox.open(pg, PgInbox.prefixOf(ids.get(0)))) {
        // -- stored once
        assertThat(db.eventRows()).as("rows in inbox_events").isEqualTo(EVENTS);
        assertThat(db.distinctEvents()).as("distinct event ids in inbox_events").isEqualTo(EVENTS);
        assertThat(db.events().keySet()).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(db.auditCounts("received").values()).as("'received' audit rows per event")
            .hasSize(EVENTS).allMatch(n -> n == 1);

        // -- processed once
        long processStart = System.nanoTime();
        Poll.until("all " + EVENTS + " events processed", Duration.ofSeconds(40), db::statusCounts,
            counts -> counts.equals(Map.of("processed", (long) EVENTS)));
        long processMillis = (System.nanoTime() - processStart) / 1_000_000;
        Map<String, Event> events = db.events();
        assertThat(events.values().stream().filter(e -> e.attempts() != 1).map(Event::toString).toList())
            .as("events claimed more than once (attempts != 1)").isEmpty();
        Map<String, Long> processedRows = db.auditCounts("processed");
        assertThat(processedRows).as("events with a 'processed' audit row").hasSize(EVENTS);
        assertThat(processedRows.entrySet().stream().filter(e -> e.getValue() != 1).map(Map.Entry::toString).toList())
            .as("events with more than one 'processed' audit row").isEmpty();

        // -- both instances processed some of them
        List<Audit> processed = db.audit("processed");
        Map<String, Long> byActor = processed.stream()
            .collect(Collectors.groupingBy(Audit::actor, Collectors.counting()));
        assertThat(byActor.keySet()).as("instances that processed events: %s", byActor)
            .containsExactlyInAnyOrder("a", "b");

        // -- never two instances on one conversation at once
        ConversationCheck check = ConversationCheck.of(db.audit("processing", "processed"));
        assertThat(check.overlaps()).as("events of one conversation processed by both instances at"
            + " overlapping times ([claimed at, processed at] by actor)").isEmpty();
        assertThat(check.sharedPartitions())
            .as("conversations processed by both instances (at different times): without any, the"
                + " overlap check above proves nothing")
            .isPositive();
        System.out.printf("MultiInstanceIT: %d sends in %d ms, processed within %d ms more; processed by %s;"
                + " %d of %d conversations moved between instances%n",
            outcomes.size(), sendMillis, processMillis, byActor, check.sharedPartitions(), CONVERSATIONS);
      }

      assertThat(a.stop()).as("exit code of a\n%s", a.logTail()).isZero();
      assertThat(b.stop()).as("exit code of b\n%s", b.logTail()).isZero();
    } finally {
      if (a != null) {
        a.close();
      }
      if (b != null) {
        b.close();
      }
    }
  }

  private ServerProcess.Builder instance(String id, String pgUrl, String redisUrl) {
    return ServerProcess.builder(dataDir.resolve(id)).label("multi-" + id)
        .secrets(SECRET)
        .env("WEBHOOKD_PG_URL", pgUrl)
        .env("WEBHOOKD_REDIS_URL", redisUrl)
        .env("WEBHOOKD_PROCESS_INSTANCE_ID", id);
  }

  /**
   * Per conversation, the time each event spent claimed: from its 'processing' audit row (the claim)
   * to its 'processed' row, with the instance that held it. Intervals of different instances in one
   * conversation must not overlap (touching is fine: millisecond clocks).
   */
  record ConversationCheck(List<String> overlaps, int sharedPartitions) {

    record Interval(String eventId, String actor, long from, long to) {
    }

    static ConversationCheck of(List<Audit> rows) {
      Map<String, Audit> claimed = new HashMap<>();
      Map<String, List<Interval>> byPartition = new LinkedHashMap<>();
      for (Audit row : rows) {
        if ("processing".equals(row.state())) {
          claimed.put(row.eventId(), row);
        } else {
          Audit claim = claimed.get(row.eventId());
          if (claim == null) {
            throw new AssertionError("event " + row.eventId() + " processed without a 'processing' audit row");
          }
          byPartition.computeIfAbsent(row.partitionKey(), k -> new ArrayList<>())
              .add(new Interval(row.eventId(), row.actor(), claim.at(), row.at()));
        }
      }
      List<String> overlaps = new ArrayList<>();
      int shared = 0;
      for (Map.Entry<String, List<Interval>> partition : byPartition.entrySet()) {
        List<Interval> intervals = partition.getValue();
        intervals.sort(Comparator.comparingLong(Interval::from));
        Set<String> actors = intervals.stream().map(Interval::actor).collect(Collectors.toCollection(TreeSet::new));
        if (actors.size() > 1) {
          shared++;
        }
        for (int i = 0; i < intervals.size(); i++) {
          for (int j = i + 1; j < intervals.size(); j++) {
            Interval x = intervals.get(i);
            Interval y = intervals.get(j);
            if (!x.actor().equals(y.actor()) && x.from() < y.to() && y.from() < x.to()) {
              overlaps.add(partition.getKey() + ": " + x + " overlaps " + y);
            }
          }
        }
      }
      return new ConversationCheck(overlaps, shared);
    }
  }
}
