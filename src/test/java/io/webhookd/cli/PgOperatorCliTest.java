package io.webhookd.cli;

import io.webhookd.testing.PrivateDatabase;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The operator's store commands on PostgreSQL: a database of this class's own on the test server,
 * emptied before each test (the shared test database may be emptied by another build meanwhile, and
 * the tests name rows by their ids) and dropped after the last.
 */
class PgOperatorCliTest extends OperatorCliContract {

  private static PrivateDatabase database;

  @BeforeAll
  static void createDatabase() throws Exception {
    database = PrivateDatabase.create("cli");
  }

  @AfterAll
  static void dropDatabase() throws Exception {
    if (database != null) {
      database.close();
    }
  }

  @Override
  String storeYaml(Path dir) throws Exception {
    database.truncateAll();
    return "data-dir: " + dir.resolve("unused").toAbsolutePath() + "\npg:\n  url: \"" + database.url() + "\"\n";
  }
}
