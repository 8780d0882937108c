-- The sqlite3 allocation workload of issue 20 (tests/bench): run as
-- `sqlite3 :memory: < sqlite.sql`. 300,000 rows from a recursive CTE, a
-- text column made from arithmetic on the row number (deterministic), an
-- index on it, a LIKE count and a GROUP BY over a prefix: about 913,000
-- allocation calls and as many frees (sqlite3 3.40).
CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000)
INSERT INTO t(id, v) SELECT x, hex((x * 7919) % 1000003) || (x % 97) FROM c;
CREATE INDEX t_v ON t(v);
SELECT count(*) FROM t WHERE v LIKE '3132%';
SELECT substr(v, 1, 4) AS p, count(*) FROM t GROUP BY p ORDER BY 2 DESC LIMIT 3;
