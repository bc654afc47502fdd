package io.webhookd.store;

import io.vertx.core.Vertx;
import io.webhookd.config.Settings;
import io.webhookd.store.postgres.PgInboxStore;
import io.webhookd.store.sqlite.SqliteInboxStore;

/** Opens the store the settings name: PostgreSQL when {@code pg.url} is set, else SQLite. */
public final class InboxStores {

  private InboxStores() {
  }

  /**
   * Migrates the schema and opens the store for an operator (or a test) beside a running server:
   * claims in progress are left alone. Blocking: call from a command's main thread.
   *
   * @param actor who the audit trail names for what this store writes
   */
  public static InboxStore open(Vertx vertx, Settings settings, String actor) throws Exception {
    return open(vertx, settings, actor, false);
  }

  /**
   * Opens the store for the server that processes its events. On the embedded store, which one
   * process owns, that server takes up at once whatever a crash left in processing. Blocking: call
   * from start-up code.
   */
  public static InboxStore openForServing(Vertx vertx, Settings settings, String instanceId) throws Exception {
    return open(vertx, settings, instanceId, true);
  }

  private static InboxStore open(Vertx vertx, Settings settings, String actor, boolean serving) throws Exception {
    return settings.postgres().enabled()
        ? PgInboxStore.open(vertx, settings.postgres(), settings.store(), actor)
        : SqliteInboxStore.open(settings.dataDir(), settings.store(), actor, serving);
  }
}
