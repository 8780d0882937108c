"""Sample "index" in Python: joining orders to customers by id, scanning the
customer list for every order (slow) against a dict built once (fast).
Practice: index what you look up repeatedly.

Usage: index.py slow|fast [CUSTOMERS [ORDERS]]"""
import sys


def make_customers(n):
    # (id, name, country): ids spread out, in no particular order
    return [((i * 7919) % 1000003, "customer-%d" % i, ("fr", "de", "uk", "es")[i % 4]) for i in range(n)]


def make_orders(n, customers):
    # one order in ten names a customer that does not exist
    ids = [c[0] for c in customers]
    return [(i, ids[(i * 31) % len(ids)] if i % 10 else 1000003 + i, 10 + i % 90) for i in range(n)]


def find_customer_scan(customers, cid):
    for c in customers:
        if c[0] == cid:
            return c
    return None


def join_scan(customers, orders):
    by_country = {}
    for _, cid, amount in orders:
        c = find_customer_scan(customers, cid)
        if c is not None:
            by_country[c[2]] = by_country.get(c[2], 0) + amount
    return by_country


def join_index(customers, orders):
    index = {c[0]: c for c in customers}
    by_country = {}
    for _, cid, amount in orders:
        c = index.get(cid)
        if c is not None:
            by_country[c[2]] = by_country.get(c[2], 0) + amount
    return by_country


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("slow", "fast"):
        sys.exit(__doc__.splitlines()[-1])
    ncust = int(sys.argv[2]) if len(sys.argv) > 2 else 6000
    norders = int(sys.argv[3]) if len(sys.argv) > 3 else 6000
    customers = make_customers(ncust)
    orders = make_orders(norders, customers)
    totals = (join_scan if sys.argv[1] == "slow" else join_index)(customers, orders)
    for country in sorted(totals):
        print("%s %d" % (country, totals[country]))


main()
