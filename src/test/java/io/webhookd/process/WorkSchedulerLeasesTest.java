package io.webhookd.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.webhookd.config.Settings;
import io.webhookd.config.SettingsLoader;
import io.webhookd.event.InboxEvent;
import io.webhookd.event.WebhookEvent;
import io.webhookd.store.InboxStatus;
import io.webhookd.store.InboxStore;
import io.webhookd.store.InboxTransitions;
import io.webhookd.store.postgres.PgInboxStore;
import io.webhookd.testing.Poll;
import io.webhookd.testing.PrivateDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scheduler's partition leases on PostgreSQL: a partition whose work ran out keeps its lease for
 * a moment (its next events are likely to come soon, and taking the lease again costs writes), and
 * gives it up once idle, so that another instance can take the conversation.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WorkSchedulerLeasesTest {

  private static final String OWNER = "leases-test";
  private static final String PARTITION = "conversation:CN-leases";
  private static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir
  Path dir;

  private PrivateDatabase database;
  private Vertx vertx;
  private InboxStore store;

  @BeforeEach
  void start() throws Exception {
    database = PrivateDatabase.create("scheduler_leases");
    Settings settings = SettingsLoader.load(Files.writeString(dir.resolve("conf.yaml"), ""), Map.of(
        "WEBHOOKD_PROCESS_POLL_INTERVAL", "100ms"));
    vertx = Vertx.vertx();
    EventDispatcher.registerCodec(vertx);
    store = PgInboxStore.open(vertx, new Settings.Postgres(database.url(), 4, Duration.ofSeconds(10)),
        settings.store(), OWNER);
    // The workers: each event is finished, then answered.
    vertx.eventBus().<InboxEvent>consumer(EventDispatcher.ADDRESS, message -> store.inTransaction(tx ->
            InboxTransitions.finish(tx, message.body(), OWNER, InboxStatus.PROCESSED, "done"))
        .onComplete(ar -> message.reply(null)));
    WorkScheduler scheduler = new WorkScheduler(store, new EventDispatcher(vertx, 30_000), settings.processing(), OWNER);
    vertx.deployVerticle(scheduler).await();
  }

  @AfterEach
  void stop() throws Exception {
    store.close().await();
    vertx.close().await();
    database.close();
  }

  @Test
  void aDrainedPartitionKeepsItsLeaseForAMomentThenGivesItUp() throws Exception {
    store.append(new WebhookEvent(WebhookEvent.SOURCE_OPENPHONE, "EV-leases", "message.delivered",
        1_700_000_000_000L, PARTITION, 1_700_000_000_000L, "openphone", "{}".getBytes())).await();
    try (Connection db = database.jdbc()) {
      Poll.until("the event processed", WAIT, () -> count(db,
          "SELECT COUNT(*) FROM inbox_events WHERE status = 'processed'"), n -> n == 1);
      long processedAt = System.nanoTime();
      assertThat(count(db, "SELECT COUNT(*) FROM partition_leases WHERE owner = '" + OWNER + "'"))
          .as("the partition's lease, kept after its last event").isEqualTo(1);

      Poll.until("the idle partition's lease given up", WAIT, () -> count(db,
          "SELECT COUNT(*) FROM partition_leases"), n -> n == 0);
      assertThat(Duration.ofNanos(System.nanoTime() - processedAt)).as("kept for a moment")
          .isGreaterThan(Duration.ofMillis(500));
    }
  }

  private static long count(Connection db, String sql) throws Exception {
    try (PreparedStatement statement = db.prepareStatement(sql); ResultSet rs = statement.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
