package io.webhookd.crm;

import io.webhookd.testing.PrivateDatabase;
import io.webhookd.testing.Rows;
import io.webhookd.testing.TestServices;
import java.sql.Connection;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The CRM scenarios on PostgreSQL: a database of this class's own on the test server
 * ({@link TestServices#postgres()}; skipped, or failed under CI=true, when it is not reachable),
 * emptied before each test and dropped after the last.
 */
class PgCrmTest extends CrmScenarios {

  private static PrivateDatabase database;
  private String url;
  private Connection jdbc;

  @BeforeAll
  static void createDatabase() throws Exception {
    database = PrivateDatabase.create("crm");
  }

  @AfterAll
  static void dropDatabase() throws Exception {
    if (database != null) {
      database.close();
    }
  }

  @Override
  Map<String, String> storeSettings() throws Exception {
    database.truncateAll();
    url = database.url();
    jdbc = database.jdbc();
    return Map.of("WEBHOOKD_PG_URL", url);
  }

  @Override
  String storeYaml() {
    return "data-dir: \"" + server.dataDir().toAbsolutePath() + "\"\npg:\n  url: \"" + url + "\"\n";
  }

  @Override
  List<Map<String, Object>> rows(String sql, Object... params) {
    return Rows.query(jdbc, sql, params);
  }

  @Override
  void closeStore() throws Exception {
    if (jdbc != null) {
      jdbc.close();
    }
  }
}
