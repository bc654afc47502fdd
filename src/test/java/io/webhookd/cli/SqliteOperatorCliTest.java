package io.webhookd.cli;

import java.nio.file.Path;

/** The operator's store commands on the embedded SQLite store, a real file in a temporary directory. */
class SqliteOperatorCliTest extends OperatorCliContract {

  @Override
  String storeYaml(Path dir) {
    return "data-dir: " + dir.resolve("data").toAbsolutePath() + "\n";
  }
}
