/**
 * Observability: the management listener with liveness and readiness, and the checks readiness
 * folds into one verdict.
 */
package io.webhookd.observe;
