/**
 * The chaos driver {@code scripts/chaos} runs: {@link io.webhookd.chaos.ChaosRunner} starts the
 * packaged jar as real processes, sends signed OpenPhone webhooks from this separate process, and
 * breaks things under load (kill -9 and restart, a second instance killed, Redis and PostgreSQL cut
 * through a {@link io.webhookd.chaos.TcpProxy} it controls, events that dead-letter, processing
 * faults injected through {@code process.fault-rate} then replayed from the DLQ, a steady soak
 * judged by {@link io.webhookd.chaos.SoakTrend}).
 * A {@link io.webhookd.chaos.Ledger} remembers every event that got a 2xx and checks afterwards, in
 * the store, that each one was stored and processed exactly once and that its CRM effect exists
 * exactly once. It sends only to 127.0.0.1, its runs are bounded in time, and it drops what it
 * created (data directories are kept under {@code target/chaos/} for diagnosis; PostgreSQL
 * databases are dropped). Nothing in the service depends on this package.
 */
package io.webhookd.chaos;
