/**
 * The composition root: builds Vert.x, the store, the dedup guard and the verifier from the
 * settings, deploys the listener and the workers, and stops them in order.
 */
package io.webhookd.server;
