/**
 * The shipped benchmark: {@link io.webhookd.bench.LoadGenerator}, a load generator for the webhook
 * port (closed-loop throughput and open-loop fixed-rate latency, measured from the scheduled send
 * time so queueing is never hidden), and the small tools {@code scripts/bench} uses to check the
 * result against the store ({@link io.webhookd.bench.InboxCount}, {@link io.webhookd.bench.BenchReport}).
 * It sends only to loopback addresses. Nothing in the service depends on this package.
 */
package io.webhookd.bench;
