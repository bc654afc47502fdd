/**
 * The shipped benchmark ({@code scripts/bench}, {@code docs/BENCHMARKS.md}):
 * {@link io.webhookd.bench.LoadGenerator}, a load generator for the webhook port (closed-loop
 * throughput and open-loop fixed-rate latency, measured from the scheduled send time so queueing is
 * never hidden), and the small tools the script uses around it: {@link io.webhookd.bench.FreePort}
 * picks loopback ports, {@link io.webhookd.bench.BenchReport} checks the stored events against the
 * acknowledgements and prints the results. It sends only to loopback addresses; nothing in the
 * service depends on this package.
 */
package io.webhookd.bench;
