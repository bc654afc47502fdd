package io.webhookd.crm;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.webhookd.process.FailureKind;
import io.webhookd.process.RetryPolicy;
import io.webhookd.store.InboxStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends queued texts through the OpenPhone API, within a rate, and delivers automation POSTs.
 * Right before a text goes out it checks the recipient's consent: a number that opted out gets
 * nothing but its one opt-out confirmation, whatever queued the text. Failures are retried with
 * the pipeline's backoff; texts claimed by an instance that died are queued again when their lease
 * expires.
 */
public final class OutboundSender extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(OutboundSender.class);
  private static final long TICK_MILLIS = 200;
  private static final long LEASE_MILLIS = 60_000;

  private final InboxStore store;
  private final OpenPhoneClient api;
  private final RetryPolicy retryPolicy;
  private final double ratePerSecond;
  private final String owner;
  private double tokens;
  private boolean busy;
  private boolean stopping;
  private Promise<Void> idle;
  private boolean warnedUnconfigured;
  private boolean roundsFailing;

  public OutboundSender(InboxStore store, OpenPhoneClient api, RetryPolicy retryPolicy, double ratePerSecond,
      String owner) {
    this.store = store;
    this.api = api;
    this.retryPolicy = retryPolicy;
    this.ratePerSecond = ratePerSecond;
    this.owner = owner;
  }

  @Override
  public Future<?> start() {
    vertx.setPeriodic(TICK_MILLIS, id -> tick());
    return Future.succeededFuture();
  }

  /** Lets a round under way finish, so no text is left claimed with its send unrecorded. */
  @Override
  public Future<?> stop() {
    stopping = true;
    idle = Promise.promise();
    if (!busy) {
      idle.complete();
    }
    return idle.future();
  }

  private void tick() {
    tokens = Math.min(ratePerSecond, tokens + ratePerSecond * TICK_MILLIS / 1000.0);
    if (busy || stopping) {
      return;
    }
    busy = true;
    long now = System.currentTimeMillis();
    Future<Void> texts = api.configured() ? sendTexts(now) : warnUnconfigured();
    texts.compose(v -> deliverPosts(now))
        .onSuccess(v -> roundsFailing = false)
        .onFailure(e -> {
          if (!roundsFailing) {
            roundsFailing = true;
            LOG.warn("outbound delivery is failing, will keep trying: {}", e.getMessage());
          }
        })
        .onComplete(ar -> {
          busy = false;
          if (stopping) {
            idle.tryComplete();
          }
        });
  }

  private Future<Void> warnUnconfigured() {
    if (!warnedUnconfigured) {
      warnedUnconfigured = true;
      LOG.warn("no OpenPhone API key (WEBHOOKD_OPENPHONE_API_KEY): texts are queued but not sent");
    }
    return Future.succeededFuture();
  }

  private Future<Void> sendTexts(long now) {
    int limit = (int) Math.floor(tokens);
    if (limit < 1) {
      return Future.succeededFuture();
    }
    return store.inTransaction(tx -> OutboundQueue.requeueExpired(tx, now)
            .compose(v -> OutboundQueue.claim(tx, owner, now, now + LEASE_MILLIS, limit)))
        .compose(claimed -> {
          tokens -= claimed.size();
          Future<Void> chain = Future.succeededFuture();
          for (OutboundQueue.Outbound message : claimed) {
            chain = chain.compose(v -> send(message));
          }
          return chain;
        });
  }

  private Future<Void> send(OutboundQueue.Outbound message) {
    Future<Boolean> allowed = message.kind().allowedAfterOptOut() ? Future.succeededFuture(true)
        : store.inTransaction(tx -> Contacts.optedOut(tx, message.to())).map(optedOut -> !optedOut);
    return allowed.compose(ok -> {
      if (!ok) {
        LOG.info("not sending {} text {} to {}: the number opted out", message.kind().dbValue(), message.id(),
            PhoneNumbers.masked(message.to()));
        return store.inTransaction(tx -> OutboundQueue.finish(tx, message, "blocked", "recipient opted out",
            System.currentTimeMillis()));
      }
      return api.sendText(message.from(), message.to(), message.body())
          .compose(providerId -> store.inTransaction(tx -> OutboundQueue.sent(tx, message, providerId,
              System.currentTimeMillis())))
          .recover(failure -> failed(message, failure));
    });
  }

  private Future<Void> failed(OutboundQueue.Outbound message, Throwable failure) {
    long now = System.currentTimeMillis();
    String error = failure.getClass().getSimpleName() + ": " + failure.getMessage();
    if (FailureKind.of(failure) == FailureKind.TRANSIENT && retryPolicy.mayRetry(message.attempts())) {
      long dueAt = now + retryPolicy.delayAfter(message.attempts()).toMillis();
      LOG.warn("text {} failed (attempt {}), retrying: {}", message.id(), message.attempts(), error);
      return store.inTransaction(tx -> OutboundQueue.retryAt(tx, message, dueAt, error, now));
    }
    LOG.error("text {} ({}) to {} could not be sent: {}", message.id(), message.kind().dbValue(),
        PhoneNumbers.masked(message.to()), error);
    return store.inTransaction(tx -> OutboundQueue.finish(tx, message, "failed", error, now));
  }

  private Future<Void> deliverPosts(long now) {
    return store.inTransaction(tx -> WebhookPosts.requeueExpired(tx, now)
            .compose(v -> WebhookPosts.claim(tx, owner, now, now + LEASE_MILLIS, 20)))
        .compose(posts -> {
          Future<Void> chain = Future.succeededFuture();
          for (WebhookPosts.Post post : posts) {
            chain = chain.compose(v -> deliver(post));
          }
          return chain;
        });
  }

  private Future<Void> deliver(WebhookPosts.Post post) {
    return api.post(post.url(), post.body())
        .compose(v -> store.inTransaction(tx -> WebhookPosts.delivered(tx, post, System.currentTimeMillis())))
        .recover(failure -> {
          long now = System.currentTimeMillis();
          String error = failure.getClass().getSimpleName() + ": " + failure.getMessage();
          if (FailureKind.of(failure) == FailureKind.TRANSIENT && retryPolicy.mayRetry(post.attempts())) {
            long dueAt = now + retryPolicy.delayAfter(post.attempts()).toMillis();
            return store.inTransaction(tx -> WebhookPosts.retryAt(tx, post, dueAt, error, now));
          }
          LOG.error("automation POST {} failed for good: {}", post.id(), error);
          return store.inTransaction(tx -> WebhookPosts.failed(tx, post, error, now));
        });
  }
}
