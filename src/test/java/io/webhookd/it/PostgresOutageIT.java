package io.webhookd.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.webhookd.chaos.TcpProxy;
import io.webhookd.chaos.TcpProxy.Mode;
import io.webhookd.it.Readiness.Verdict;
import io.webhookd.it.Traffic.Sent;
import io.webhookd.testing.Fixtures;
import io.webhookd.testing.PrivateDatabase;
import io.webhookd.testing.TestSigner;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The server reaches PostgreSQL through a {@link TcpProxy}; in the middle of a stream of webhooks the
 * test takes PostgreSQL away: refused (the database is down), blackholed (the network or the host
 * hangs: only the 2 s commit timeout ends the wait), or frozen mid-conversation (a hung database),
 * and brings it back, in the last case also as a failover that never answers the old connections
 * (only the service giving up on them, after the 2 s operation timeout, ends them). New webhooks get
 * 503 storage_unavailable and
 * readiness says unhealthy; when PostgreSQL is back the service recovers by itself. Every event
 * answered 2xx at any time is stored and processed exactly once, and the events refused with 503,
 * sent again as the sender would, are stored once.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PostgresOutageIT {

  private static final String SECRET = TestSigner.newOpenPhoneSecret();
  private static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(2);
  /** A 503 during the cut comes within the commit timeout, plus slack for a loaded machine. */
  private static final Duration REFUSAL_WITHIN = COMMIT_TIMEOUT.plusSeconds(3);
  private static final int PROBES = 8;
  /**
   * Generous: the service is back within a second once PostgreSQL answers; a connection that never
   * answers again should be given up well within this (it is 15 commit timeouts).
   */
  private static final Duration RECOVERY_WITHIN = Duration.ofSeconds(30);

  @TempDir
  Path dataDir;

  /** How PostgreSQL goes away, and how it comes back. */
  enum Outage {
    /** Down (connections refused), then up again. */
    REFUSED(Mode.REFUSE),
    /** Unreachable (connections hang), then reachable again. */
    BLACKHOLED(Mode.BLACKHOLE),
    /** Hung mid-conversation, then restarted: the hung connections are reset. */
    FROZEN(Mode.FREEZE),
    /**
     * Hung mid-conversation, then back on another host (a failover) or behind a firewall that lost
     * the connections' state: the hung connections are never answered again, not even with a
     * reset; only the service giving up on them ends them.
     */
    FROZEN_FOREVER(Mode.FREEZE);

    final Mode mode;

    Outage(Mode mode) {
      this.mode = mode;
    }

    void end(TcpProxy proxy) {
      if (this == FROZEN_FOREVER) {
        proxy.reopenLeavingFrozen();
      } else {
        proxy.restore();
      }
    }
  }

  @ParameterizedTest(name = "PostgreSQL {0}")
  @EnumSource(Outage.class)
  void newWebhooksGet503DuringTheCutAndTheServiceRecoversByItself(Outage outage) throws Exception {
    Mode mode = outage.mode;
    AtomicBoolean stop = new AtomicBoolean();
    try (PrivateDatabase pg = PrivateDatabase.create("pg" + outage.name());
         TcpProxy proxy = TcpProxy.to(pg.host(), pg.port());
         ServerProcess server = ServerProcess.builder(dataDir).label("pg-outage-" + outage.name().toLowerCase())
             .secrets(SECRET)
             .env("WEBHOOKD_PG_URL", pg.urlVia("127.0.0.1", proxy.port()))
             .env("WEBHOOKD_STORE_COMMIT_TIMEOUT", COMMIT_TIMEOUT.toMillis() + "ms")
             // Claims, leases and handler transactions give up a silent connection as soon.
             .env("WEBHOOKD_PG_OPERATION_TIMEOUT", COMMIT_TIMEOUT.toMillis() + "ms")
             .env("WEBHOOKD_PROCESS_INSTANCE_ID", "pg-outage")
             // Failures during the cut are retried soon rather than after the default minute.
             .env("WEBHOOKD_PROCESS_RETRY_BASE", "500ms")
             .env("WEBHOOKD_PROCESS_RETRY_CAP", "2s")
             .start()) {
      WebhookClient client = new WebhookClient(server);
      Events events = new Events(client);
      Poll.until("ready and healthy", Duration.ofSeconds(10), () -> Readiness.of(server),
          v -> v.is(200, "healthy"));

      // -- a steady stream, from a sender thread
      CompletableFuture<Void> stream = CompletableFuture.runAsync(() -> {
        while (!stop.get()) {
          events.sendNew();
        }
      });
      Poll.until("the stream under way", Duration.ofSeconds(30), () -> events.acknowledged().size(), n -> n >= 50);

      // -- PostgreSQL goes away
      proxy.cut(mode);
      long cutAt = System.currentTimeMillis();
      Verdict unhealthy = Poll.until("/ready unhealthy", Duration.ofSeconds(15), () -> Readiness.of(server),
          v -> v.is(503, "unhealthy"));
      assertThat(unhealthy.check("store")).as("the store check: %s", unhealthy).isEqualTo("unhealthy");
      List<Sent> probes = new ArrayList<>();
      List<CompletableFuture<Sent>> probing = new ArrayList<>();
      for (int i = 0; i < PROBES; i++) {
        probing.add(events.sendNewAsync(events.probes));
      }
      probing.forEach(p -> probes.add(p.join()));
      assertThat(probes).as("new webhooks while PostgreSQL is away").allSatisfy(p -> {
        assertThat(p.status()).as("%s", p).isEqualTo(503);
        assertThat(p.code()).as("%s", p).isEqualTo("storage_unavailable");
        assertThat(p.endedAtMillis() - p.startedAtMillis()).as("time to answer %s", p)
            .isLessThanOrEqualTo(REFUSAL_WITHIN.toMillis());
      });
      assertThat(server.isAlive()).isTrue();

      // -- PostgreSQL is back: the service recovers by itself
      outage.end(proxy);
      long restoredAt = System.currentTimeMillis();
      Poll.until("a new webhook answered 200 again", RECOVERY_WITHIN,
          () -> events.sendNewAsync(events.probes).join(), Sent::acknowledged);
      long acceptingAfter = System.currentTimeMillis() - restoredAt;
      Poll.until("/ready healthy again", RECOVERY_WITHIN, () -> Readiness.of(server),
          v -> v.is(200, "healthy"));
      long healthyAfter = System.currentTimeMillis() - restoredAt;
      Poll.until("more of the stream acknowledged after the recovery", Duration.ofSeconds(20),
          () -> events.acknowledgedSince(restoredAt), n -> n >= 30);
      stop.set(true);
      stream.get(30, TimeUnit.SECONDS);
      List<Sent> firstTime = new ArrayList<>(events.traffic.awaitAll(Duration.ofSeconds(30)));
      firstTime.addAll(events.probes.awaitAll(Duration.ofSeconds(30)));

      // -- every answer a 2xx or a 503 storage_unavailable, never anything else
      assertThat(firstTime.stream().filter(s -> !s.acknowledged()
              && !(s.status() == 503 && "storage_unavailable".equals(s.code()))).toList())
          .as("answers other than 2xx and 503 storage_unavailable (%s)\n%s", Traffic.summary(firstTime),
              server.logTail())
          .isEmpty();
      Set<String> acknowledged = Traffic.acknowledgedIds(firstTime);
      List<String> refused = events.ids().stream().filter(id -> !acknowledged.contains(id)).toList();
      assertThat(refused).as("events refused during the cut").isNotEmpty();

      // -- the sender sends the refused ones again
      List<Sent> resent = events.resend(refused);
      assertThat(resent.stream().filter(s -> !s.acknowledged()).toList())
          .as("re-sent events not answered 2xx (%s)", Traffic.summary(resent)).isEmpty();

      try (PgInbox db = PgInbox.open(pg, events.prefix())) {
        int all = events.ids().size();
        assertThat(db.events().keySet()).as("stored events").containsExactlyInAnyOrderElementsOf(events.ids());
        assertThat(db.eventRows()).as("rows stored").isEqualTo(all);
        Poll.until("every event processed", Duration.ofSeconds(30), db::statusCounts,
            counts -> counts.equals(Map.of("processed", (long) all)));
        Map<String, Long> processedRows = db.auditCounts("processed");
        assertThat(processedRows).hasSize(all);
        assertThat(processedRows.entrySet().stream().filter(e -> e.getValue() != 1).map(Map.Entry::toString).toList())
            .as("events processed more than once").isEmpty();
        System.out.printf("PostgresOutageIT[%s]: %d events, %d acknowledged before/after the cut, %d refused and"
                + " re-sent (%s); cut for %d ms; accepting again %d ms and healthy %d ms after the restore%n",
            outage, all, acknowledged.size(), refused.size(), Traffic.summary(resent), restoredAt - cutAt,
            acceptingAfter, healthyAfter);
      }
      assertThat(server.stop()).as("exit code\n%s", server.logTail()).isZero();
    } finally {
      stop.set(true); // also when the test failed half-way: the stream ends
    }
  }

  /** New events over a handful of conversations; every send recorded. */
  private static final class Events {
    final WebhookClient client;
    /** The stream. */
    final Traffic traffic = new Traffic(SECRET, 8);
    /** Single requests of the test's own, so that they do not queue behind the stream. */
    final Traffic probes = new Traffic(SECRET, 8);
    final Map<String, byte[]> bodies = new ConcurrentHashMap<>();
    final List<String> order = java.util.Collections.synchronizedList(new ArrayList<>());
    final String conversationTag = UUID.randomUUID().toString().substring(0, 8);
    final Instant firstEvent = Instant.now().minusSeconds(3_600);

    Events(WebhookClient client) {
      this.client = client;
    }

    CompletableFuture<Sent> sendNewAsync(Traffic via) {
      String id = Bodies.uniqueId("pg");
      int k;
      synchronized (order) {
        k = order.size();
        order.add(id);
      }
      byte[] body = Bodies.inConversation(k % 2 == 0 ? Fixtures.LEGACY_V2_MESSAGE_DELIVERED
          : Fixtures.LEGACY_V3_CALL_COMPLETED, id, "CNpg" + conversationTag + "x" + (k % 20),
          firstEvent.plusMillis(k * 100L));
      bodies.put(id, body);
      return via.send("server", client, id, body);
    }

    void sendNew() {
      sendNewAsync(traffic);
    }

    List<String> ids() {
      synchronized (order) {
        return List.copyOf(order);
      }
    }

    String prefix() {
      return PgInbox.prefixOf(ids().get(0));
    }

    Set<String> acknowledged() {
      return Traffic.acknowledgedIds(traffic.outcomes());
    }


    long acknowledgedSince(long millis) {
      return traffic.outcomes().stream().filter(s -> s.acknowledged() && s.startedAtMillis() >= millis).count();
    }

    List<Sent> resend(List<String> ids) {
      Traffic again = new Traffic(SECRET, 8);
      List<CompletableFuture<Sent>> sends = new ArrayList<>();
      ids.forEach(id -> sends.add(again.send("server", client, id, bodies.get(id))));
      return sends.stream().map(CompletableFuture::join).toList();
    }
  }
}
