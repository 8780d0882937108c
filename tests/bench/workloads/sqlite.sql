-- The sqlite3 workload of issue 20, run as `sqlite3 :memory: < sqlite.sql`:
-- a table of 300,000 rows made by a recursive CTE, with a text column from
-- arithmetic on the row number (deterministic), an index on that column, a
-- LIKE count and a GROUP BY over a prefix. About 610,000 allocations and as
-- many frees with sqlite 3.40 (the issue's "about 930,000 events" was
-- another sqlite version's count).
CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 300000)
INSERT INTO t(id, v) SELECT n, 'v' || (n * 7919 % 1000003) FROM c;
CREATE INDEX t_v ON t(v);
SELECT count(*) FROM t WHERE v LIKE '%77%';
SELECT substr(v, 1, 3) AS p, count(*) FROM t GROUP BY p ORDER BY p LIMIT 3;
