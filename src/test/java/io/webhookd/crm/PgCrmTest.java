package io.webhookd.crm;

import io.webhookd.testing.TestServices;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The CRM scenarios on PostgreSQL: a database of this class's own on the test server
 * ({@link TestServices#postgres()}; skipped, or failed under CI=true, when it is not reachable),
 * emptied before each test and dropped after the last.
 */
class PgCrmTest extends CrmScenarios {

  private static CrmDatabase database;
  private String url;
  private Connection jdbc;

  @BeforeAll
  static void createDatabase() throws Exception {
    database = CrmDatabase.create();
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
    try (PreparedStatement statement = jdbc.prepareStatement(sql)) {
      statement.setQueryTimeout(10);
      for (int i = 0; i < params.length; i++) {
        statement.setObject(i + 1, params[i]);
      }
      List<Map<String, Object>> rows = new ArrayList<>();
      try (ResultSet rs = statement.executeQuery()) {
        ResultSetMetaData meta = rs.getMetaData();
        while (rs.next()) {
          Map<String, Object> row = new LinkedHashMap<>();
          for (int i = 1; i <= meta.getColumnCount(); i++) {
            row.put(meta.getColumnLabel(i).toLowerCase(Locale.ROOT), rs.getObject(i));
          }
          rows.add(row);
        }
      }
      return rows;
    } catch (SQLException e) {
      throw new IllegalStateException("query failed: " + sql, e);
    }
  }

  @Override
  void closeStore() throws Exception {
    if (jdbc != null) {
      jdbc.close();
    }
  }
}
