-- A small but real SQLite workload for the stress suite: a recursive CTE,
-- indexes, joins, aggregates, a transaction, and one deliberate error.
PRAGMA journal_mode = WAL;
CREATE TABLE item(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, price REAL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60000)
INSERT INTO item SELECT i, i % 97, 'item' || i, (i * 7919 % 10007) / 100.0 FROM n;
CREATE INDEX item_grp ON item(grp);
CREATE TABLE grp(id INTEGER PRIMARY KEY, label TEXT);
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 96)
INSERT INTO grp SELECT i, printf('group-%02d', i) FROM n;
SELECT g.label, count(*), round(sum(i.price), 2) FROM item i JOIN grp g ON g.id = i.grp
GROUP BY g.id ORDER BY sum(i.price) DESC LIMIT 5;
BEGIN;
UPDATE item SET price = price * 1.1 WHERE grp % 3 = 0;
DELETE FROM item WHERE id % 10 = 0;
COMMIT;
SELECT count(*), round(avg(price), 4), max(length(name)) FROM item;
SELECT name FROM item WHERE name LIKE 'item12%' ORDER BY id LIMIT 3;
SELECT * FROM no_such_table;
SELECT group_concat(label, ';') FROM (SELECT label FROM grp ORDER BY id DESC LIMIT 4);
