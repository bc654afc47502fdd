/**
 * The {@code webhookd} command line (picocli), every command reading the same settings
 * ({@code --config} and {@code WEBHOOKD_*}): {@code serve} runs the service; the operator's commands
 * work on the store it uses, safely while it runs, through the store package's
 * {@link io.webhookd.store.DeadLetterQueue} and {@link io.webhookd.store.EventLog}
 * ({@code dlq list|show|replay|discard}, {@code events list|show}, {@code migrate}); {@code sign}
 * and {@code send} produce signed test deliveries ({@link io.webhookd.ingest.WebhookSigner});
 * {@code check-config} validates the settings. Data goes to stdout, diagnostics to stderr; exit codes
 * are 0 done, 1 failed, 2 usage or configuration error.
 */
package io.webhookd.cli;
