-- Every event updates its inbox row twice (claimed, finished) and inserts and deletes a partition
-- lease. Autovacuum's defaults wait for a fifth of a table to be dead rows: the claim, which reads
-- the partial indexes of pending and processing events, steps over every dead entry left behind
-- meanwhile, and plans made for a table of a few rows outlive it by millions. Cleaned and analysed
-- after one percent (the leases after a thousand dead rows), both stay the size of the work.
-- Without truncation: giving the emptied pages at the end back to the file system takes a lock
-- that stops every claim and append until it is done, seconds under load.
ALTER TABLE inbox_events SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.01,
                              vacuum_truncate = false);
ALTER TABLE partition_leases SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000,
                                  autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 1000,
                                  vacuum_truncate = false);
