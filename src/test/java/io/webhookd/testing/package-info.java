/**
 * What the tests of every package share: the real PostgreSQL and Redis they talk to
 * ({@link io.webhookd.testing.TestServices}) and databases of a test's own on that server
 * ({@link io.webhookd.testing.PrivateDatabase}), polling against a deadline ({@link io.webhookd.testing.Poll}),
 * the OpenPhone fixtures and signatures ({@link io.webhookd.testing.Fixtures},
 * {@link io.webhookd.testing.TestSigner}), query results as maps ({@link io.webhookd.testing.Rows}),
 * and the service running in the test JVM ({@link io.webhookd.testing.InProcessServer}).
 */
package io.webhookd.testing;
