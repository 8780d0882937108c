"""Sample "stream" in Python: summing a CSV of sales by region, loading the
whole file into a list of lines and a list of records (slow) against a
generator pipeline that holds one line at a time (fast). Practice: stream,
do not load whole. `stream.py gen FILE MB` writes an input.

Usage: stream.py slow|fast FILE | stream.py gen FILE MB"""
import sys

REGIONS = ("north", "south", "east", "west", "centre")


def generate(path, mb):
    with open(path, "w") as f:
        size, i = 0, 0
        while size < mb << 20:
            line = "%d,%s,%d.%02d\n" % (i, REGIONS[i * 7 % 5], i * 37 % 1000, i % 100)
            f.write(line)
            size += len(line)
            i += 1


def load_whole(path):
    """The whole file as one string, then a list of its lines."""
    with open(path) as f:
        return f.read().splitlines()


def parse_all(lines):
    """A list of every record."""
    return [line.split(",") for line in lines]


def sum_list(path):
    records = parse_all(load_whole(path))
    totals = {}
    for _, region, amount in records:
        totals[region] = totals.get(region, 0.0) + float(amount)
    return totals


def read_lines(path):
    """One line at a time: the file object's own buffer, a few KiB."""
    with open(path) as f:
        for line in f:
            yield line.rstrip("\n")


def parse_each(lines):
    for line in lines:
        yield line.split(",")


def sum_stream(path):
    totals = {}
    for _, region, amount in parse_each(read_lines(path)):
        totals[region] = totals.get(region, 0.0) + float(amount)
    return totals


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "gen":
        generate(sys.argv[2], int(sys.argv[3]))
        return
    if len(sys.argv) != 3 or sys.argv[1] not in ("slow", "fast"):
        sys.exit(__doc__.splitlines()[-1])
    totals = (sum_list if sys.argv[1] == "slow" else sum_stream)(sys.argv[2])
    for region in sorted(totals):
        print("%-6s %.2f" % (region, totals[region]))


main()
