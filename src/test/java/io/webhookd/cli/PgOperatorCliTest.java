package io.webhookd.cli;

import io.webhookd.testing.TestServices;
import java.nio.file.Path;

/** The operator's store commands on PostgreSQL: the real test database, emptied before each test. */
class PgOperatorCliTest extends OperatorCliContract {

  @Override
  String storeYaml(Path dir) throws Exception {
    String url = TestServices.postgres();
    TestServices.truncateAll();
    return "data-dir: " + dir.resolve("unused").toAbsolutePath() + "\npg:\n  url: \"" + url + "\"\n";
  }
}
