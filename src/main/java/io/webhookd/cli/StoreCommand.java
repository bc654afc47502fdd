package io.webhookd.cli;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.webhookd.config.InvalidSettingException;
import io.webhookd.config.Settings;
import io.webhookd.store.InboxStore;
import io.webhookd.store.InboxStores;
import io.webhookd.store.sqlite.SqliteInboxStore;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * An operator command that works on the store the service uses, with the same settings as
 * {@code serve}. It opens Vert.x and the store (which migrates the schema), does its work on the
 * command's own thread (waiting with {@code await}, allowed there: it is no Vert.x thread), and
 * closes both. Its writes are short transactions, so it is safe while a server runs on the store.
 *
 * <p>Exit codes: 0 done, 1 failed, 2 a usage or configuration error.
 */
abstract class StoreCommand implements Callable<Integer> {

  @Mixin
  ConfigOption config;

  @Spec
  CommandSpec spec;

  /** The settings loaded for this run; set before {@link #run}. */
  Settings settings;

  /** Checks the options before anything is opened; throws {@link ParameterException} (exit 2). */
  void validate() {
  }

  /** The command's work; returns its exit code. */
  abstract int run(InboxStore store) throws Exception;

  @Override
  public final Integer call() {
    validate();
    try {
      settings = config.load();
    } catch (InvalidSettingException e) {
      err().println("webhookd: " + e.getMessage());
      return ExitCode.USAGE;
    }
    Vertx vertx = Vertx.vertx();
    InboxStore store = null;
    try {
      store = InboxStores.open(vertx, settings, actor());
      return run(store);
    } catch (ParameterException e) {
      throw e;
    } catch (Exception e) {
      err().println("webhookd: " + describe(e));
      return ExitCode.SOFTWARE;
    } finally {
      if (store != null) {
        try {
          store.close().await();
        } catch (RuntimeException e) {
          err().println("webhookd: closing the store failed: " + describe(e));
        }
      }
      vertx.close().await();
      out().flush();
      err().flush();
    }
  }

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  PrintWriter err() {
    return spec.commandLine().getErr();
  }

  /** Who the audit trail names for what this command changes: {@code cli:<user>}. */
  static String actor() {
    return "cli:" + System.getProperty("user.name", "unknown");
  }

  /** Which store the settings name, without any secret: a file, or PostgreSQL's host and database. */
  static String describeStore(Settings settings) {
    if (settings.postgres().enabled()) {
      PgConnectOptions connect = PgConnectOptions.fromUri(settings.postgres().url());
      return "postgresql " + connect.getHost() + ":" + connect.getPort() + "/" + connect.getDatabase();
    }
    return "sqlite " + settings.dataDir().resolve(SqliteInboxStore.FILE_NAME);
  }

  /** The failure in one line: its message, else the first cause's that has one. */
  static String describe(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t.getMessage() != null && !t.getMessage().isBlank()) {
        String message = t.getMessage().strip().lines().findFirst().orElse("");
        return t == failure ? message : failure.getClass().getSimpleName() + ": " + message;
      }
    }
    return failure.toString();
  }

  ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}
