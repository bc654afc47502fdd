package io.webhookd.cli;

import io.webhookd.config.InvalidSettingException;
import io.webhookd.config.Settings;
import io.webhookd.crm.CrmHandlers;
import io.webhookd.process.HandlerRegistry;
import io.webhookd.server.WebhookdServer;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import sun.misc.Signal;

/** Runs the service until SIGTERM or SIGINT, then stops it gracefully and exits 0. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = "Run the webhook receiver.",
    footer = {"", "Example:", "  WEBHOOKD_OPENPHONE_SECRETS=<secret> java -jar target/webhookd.jar serve"})
final class ServeCommand implements Callable<Integer> {

  private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);

  @Mixin
  ConfigOption config;

  @Override
  public Integer call() {
    Settings settings;
    HandlerRegistry handlers;
    try {
      settings = config.load();
      handlers = CrmHandlers.registry(settings);
    } catch (InvalidSettingException e) {
      System.err.println("webhookd: " + e.getMessage());
      return 2;
    }
    // Handling the signals ourselves (rather than only a shutdown hook) lets a requested stop
    // drain in-flight work and still exit 0.
    CountDownLatch stopRequested = new CountDownLatch(1);
    Signal.handle(new Signal("TERM"), signal -> stopRequested.countDown());
    Signal.handle(new Signal("INT"), signal -> stopRequested.countDown());

    WebhookdServer server;
    try {
      server = WebhookdServer.start(settings, handlers);
    } catch (Exception e) {
      LOG.error("start-up failed: {}", e.toString());
      System.err.println("webhookd: start-up failed: " + e.getMessage());
      return 1;
    }
    try {
      stopRequested.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    server.stop();
    return 0;
  }
}
