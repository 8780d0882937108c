"""Sample "compact" in Python: a table of orders held as one object per order
with its attributes in a per-instance dictionary (slow) against typed columns
in array.array, one machine number per field (fast). Practice: size the
representation to the data. A query then sums the revenue of shipped orders
in one region. (`__slots__` is the half-way house: one object per order, no
dictionary.)

Usage: compact.py slow|fast [ORDERS [QUERIES]]"""
import sys
from array import array

SHIPPED = 2


class Order:
    def __init__(self, region, status, qty, price_cents):
        self.region = region
        self.status = status
        self.qty = qty
        self.price_cents = price_cents


def field(i):
    """Order i's fields, the same in both ways."""
    return i * 7 % 16, i * 13 % 4, 1 + i % 9, 100 + i * 7919 % 90000


def load_objects(n):
    return [Order(*field(i)) for i in range(n)]


def query_objects(orders, region):
    total = 0
    for o in orders:
        if o.region == region and o.status == SHIPPED:
            total += o.qty * o.price_cents
    return total


def load_columns(n):
    cols = (array("B"), array("B"), array("H"), array("I"))   # 1 + 1 + 2 + 4 bytes
    for i in range(n):
        for col, v in zip(cols, field(i)):
            col.append(v)
    return cols


def query_columns(cols, region):
    regions, status, qty, price = cols
    total = 0
    for i, r in enumerate(regions):
        if r == region and status[i] == SHIPPED:
            total += qty[i] * price[i]
    return total


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("slow", "fast"):
        sys.exit(__doc__.splitlines()[-1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200000
    queries = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    if sys.argv[1] == "slow":
        table, query = load_objects(n), query_objects
    else:
        table, query = load_columns(n), query_columns
    for q in range(queries):
        print("region %d: revenue %d" % (q, query(table, q)))


main()
