package io.webhookd.crm;

import java.util.List;
import java.util.Map;

/** The CRM scenarios on the embedded SQLite store, in the test's temporary directory. */
class SqliteCrmTest extends CrmScenarios {

  @Override
  Map<String, String> storeSettings() {
    return Map.of();
  }

  @Override
  String storeYaml() {
    return "data-dir: \"" + server.dataDir().toAbsolutePath() + "\"\n";
  }

  @Override
  List<Map<String, Object>> rows(String sql, Object... params) {
    return server.query(sql, params);
  }
}
