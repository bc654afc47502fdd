package io.webhookd.ingest;

import io.webhookd.dedup.DedupGuard;
import io.webhookd.event.CriticalEvents;
import io.webhookd.observe.Metrics;
import io.webhookd.process.ProcessingWatch;
import io.webhookd.process.WorkIntake;
import io.webhookd.store.InboxStore;
import java.time.Duration;

/**
 * What the listener works with, shared by all its instances.
 *
 * @param intake         where each new event goes to be processed once it is stored
 * @param watch          tells a critical event's request when its processing is done
 * @param criticalBudget how long a critical event's request waits for that
 */
public record IngestContext(SignatureVerifier verifier, DedupGuard dedup, InboxStore store, WorkIntake intake,
    CriticalEvents critical, ProcessingWatch watch, Duration criticalBudget, Metrics metrics, RequestGate gate,
    TlsCertificates tls) {
}
