#!/usr/bin/env bash
# Writes a large, deterministic C file to stdout for the `gcc -O2` workload
# of the benchmarks (tests/bench): N functions (default 120) of loops,
# switches and arithmetic, so that the compiler allocates a lot. Usage:
# gen-c.sh [N] > big.c
n=${1:-120}
awk -v n="$n" 'BEGIN {
	print "#include <stddef.h>"
	for (i = 0; i < n; i++) {
		printf "int f%d(int *a, size_t m, int k)\n{\n\tint s = %d;\n", i, i
		printf "\tfor (size_t j = 0; j < m; j++) {\n\t\tswitch ((a[j] + k) & 7) {\n"
		for (c = 0; c < 8; c++)
			printf "\t\tcase %d: s += a[j] * %d - (s >> %d); break;\n", c, (i * 7 + c) % 31 + 1, c % 5 + 1
		printf "\t\t}\n\t\tif (s > %d) s ^= a[(j + %d) %% m];\n\t}\n", i * 13 + 1000, i % 17 + 1
		if (i > 0) printf "\treturn s + (k ? f%d(a, m / 2, k - 1) : 0);\n}\n", i - 1
		else print "\treturn s;\n}"
	}
}'
