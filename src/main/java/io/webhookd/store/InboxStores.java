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
   * Migrates the schema and opens the store. Blocking: call from start-up code or a command's
   * main thread.
   *
   * @param actor who the audit trail names for what this store writes (instance or operator)
   */
  public static InboxStore open(Vertx vertx, Settings settings, String actor) throws Exception {
    return settings.postgres().enabled()
        ? PgInboxStore.open(vertx, settings.postgres(), settings.store(), actor)
        : SqliteInboxStore.open(settings.dataDir(), settings.store(), actor);
  }
}
