package io.webhookd.store;

import io.vertx.core.Future;
import java.util.List;

/**
 * The schema migrations applied to a store, as Flyway recorded them ({@code flyway_schema_history},
 * the same on both adapters). The store migrates itself when opened; this says to what.
 */
public final class SchemaHistory {

  private static final String APPLIED = """
      SELECT version, description, success FROM flyway_schema_history
      WHERE version IS NOT NULL ORDER BY installed_rank""";

  private SchemaHistory() {
  }

  /** One applied migration. */
  public record Migration(String version, String description, boolean success) {
  }

  /** Every versioned migration applied, in order. */
  public static Future<List<Migration>> applied(InboxStore store) {
    return store.inTransaction(tx -> tx.query(APPLIED).map(rows -> rows.stream()
        .map(row -> new Migration(row.string("version"), row.string("description"), truthy(row.columns().get("success"))))
        .toList()));
  }

  /** The version of the last successful migration, or null when none was applied. */
  public static String currentVersion(List<Migration> applied) {
    String current = null;
    for (Migration migration : applied) {
      if (migration.success()) {
        current = migration.version();
      }
    }
    return current;
  }

  /** PostgreSQL answers a boolean, SQLite a number. */
  private static boolean truthy(Object value) {
    return value instanceof Boolean b ? b : value instanceof Number n && n.intValue() != 0;
  }
}
