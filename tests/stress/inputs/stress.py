# A small but real Python workload for the stress suite: json, re, a class
# hierarchy, generators, sorting and exceptions. Output is deterministic.
import json
import re
import sys
from collections import Counter


class Shape:
    def area(self):
        raise NotImplementedError

    def describe(self):
        return f"{type(self).__name__}({self.area():.3f})"


class Rect(Shape):
    def __init__(self, w, h):
        self.w, self.h = w, h

    def area(self):
        return self.w * self.h


class Square(Rect):
    def __init__(self, s):
        super().__init__(s, s)


class Circle(Shape):
    def __init__(self, r):
        self.r = r

    def area(self):
        return 3.141592653589793 * self.r * self.r


def shapes(n):
    for i in range(n):
        k = i % 3
        yield Rect(i % 7 + 1, i % 5 + 1) if k == 0 else Square(i % 9 + 1) if k == 1 else Circle(i % 4 + 1)


def main():
    all_shapes = list(shapes(30000))
    total = sum(s.area() for s in all_shapes)
    kinds = Counter(type(s).__name__ for s in all_shapes)
    doc = {"total": round(total, 3), "kinds": dict(sorted(kinds.items())),
           "largest": [s.describe() for s in sorted(all_shapes, key=lambda s: -s.area())[:3]]}
    text = json.dumps(doc, sort_keys=True)
    back = json.loads(text)
    assert back == doc
    print(text)

    words = re.findall(r"[a-z]+", (" ".join(s.describe() for s in all_shapes[:2000])).lower())
    print(sorted(Counter(words).items())[:5])
    numbers = [float(m.group(1)) for m in re.finditer(r"\(([0-9.]+)\)", text + " ".join(doc["largest"]))]
    print("numbers", len(numbers), round(sum(numbers), 3))

    try:
        Shape().area()
    except NotImplementedError:
        print("abstract area refused", file=sys.stderr)
    blob = json.dumps([{"i": i, "s": str(i) * 3} for i in range(50000)])
    print("blob", len(blob), len(json.loads(blob)))
    return 3


if __name__ == "__main__":
    sys.exit(main())
