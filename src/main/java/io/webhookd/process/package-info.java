/**
 * Processing: dispatching stored events over the event bus to worker verticles, moving each
 * through its inbox states, and taking up at start-up whatever a crash left unfinished.
 */
package io.webhookd.process;
