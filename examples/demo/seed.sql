-- The demo application's database: a tiny shop.
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id),
                     total_cents INTEGER NOT NULL, created_at TEXT NOT NULL);
INSERT INTO customers (name, email) VALUES
  ('Ada Lovelace', 'ada@example.org'), ('Grace Hopper', 'grace@example.org'),
  ('Jürgen Müller', 'juergen@example.org');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
INSERT INTO orders (customer_id, total_cents, created_at)
  SELECT 1 + i % 3, i * 137 % 10000, datetime('2026-01-01', '+' || i || ' hours') FROM n;
