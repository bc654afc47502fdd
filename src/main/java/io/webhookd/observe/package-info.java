/**
 * Observability: the service's metrics (among them the SQLite writer's stages), the management
 * listener with liveness and readiness, and the checks readiness folds into one verdict.
 */
package io.webhookd.observe;
