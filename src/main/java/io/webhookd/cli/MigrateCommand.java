package io.webhookd.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.webhookd.store.InboxStore;
import io.webhookd.store.SchemaHistory;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Option;

/** {@code webhookd migrate}: brings the store's schema up to date and says which version it is. */
@Command(
    name = "migrate",
    mixinStandardHelpOptions = true,
    description = {"Run the schema migrations on the configured store (SQLite, or PostgreSQL when pg.url is set)"
        + " and report its schema version. serve migrates at start-up too; this does it ahead of a deploy."},
    footer = {"", "Example:", "  WEBHOOKD_PG_URL=postgresql://webhookd@db:5432/webhookd webhookd migrate"})
final class MigrateCommand extends StoreCommand {

  @Option(names = "--json", description = "Print a JSON object with the applied migrations.")
  boolean json;

  @Override
  int run(InboxStore store) {
    List<SchemaHistory.Migration> applied = SchemaHistory.applied(store).await();
    String version = SchemaHistory.currentVersion(applied);
    String where = describeStore(settings);
    if (json) {
      JsonArray migrations = new JsonArray();
      applied.forEach(m -> migrations.add(new JsonObject().put("version", m.version())
          .put("description", m.description()).put("success", m.success())));
      Output.json(out(), new JsonObject().put("store", where).put("version", version).put("migrations", migrations));
      return ExitCode.OK;
    }
    out().println("schema version " + version + " (" + where + ")");
    List<List<String>> rows = new ArrayList<>();
    applied.forEach(m -> rows.add(List.of(m.version(), m.description(), m.success() ? "applied" : "FAILED")));
    Output.table(out(), List.of("VERSION", "DESCRIPTION", "STATE"), rows);
    return ExitCode.OK;
  }
}
