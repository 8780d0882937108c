/* Sample "loops": multiplying two square matrices with the textbook i-j-k loop
 * order, which walks B down its columns (slow), against the i-k-j order, which
 * streams every matrix along its rows (fast). Practice: let the innermost loop
 * walk memory contiguously, so caches and vector units can help. The slow
 * profile is all matmul_column_order. Both orders add the products for each
 * element in the same order of k, so the results are bit-identical. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sample.h"

/* The inner loop strides n*4 bytes through b: each step touches a new cache
 * line, and nothing can be vectorised. */
__attribute__((noinline)) static void matmul_column_order(size_t n, const double *a, const double *b,
							  double *c)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			double sum = 0;
			for (size_t k = 0; k < n; k++)
				sum += a[i * n + k] * b[k * n + j];
			c[i * n + j] = sum;
		}
}

/* ci += aik * bk over one row. A fixed trip count of 16 is what lets gcc -O2
 * (whose cost model vectorises only loops with a known count) use SIMD; it is a
 * function of its own because, inlined into the loop nest, it is unrolled
 * before the vectoriser sees it. */
__attribute__((noinline)) static void row_multiply_add(size_t n, double aik, double *restrict ci,
						       const double *restrict bk)
{
	size_t j = 0;
	for (; j + 16 <= n; j += 16)
		for (size_t v = 0; v < 16; v++)
			ci[j + v] += aik * bk[j + v];
	for (; j < n; j++)
		ci[j] += aik * bk[j];
}

/* The same products in the same order of k for each element, but the inner
 * loop reads a row of b and updates a row of c, both contiguous. */
__attribute__((noinline)) static void matmul_row_order(size_t n, const double *a, const double *b, double *c)
{
	for (size_t i = 0; i < n * n; i++)
		c[i] = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < n; k++)
			row_multiply_add(n, a[i * n + k], c + i * n, b + k * n);
}

int main(int argc, char **argv)
{
	int fast = sample_way(argc, argv, "[N]  (default 700: N x N matrices)");
	size_t n = (size_t)sample_arg(argc, argv, 2, 700, 20000);

	double *a = malloc(n * n * sizeof *a), *b = malloc(n * n * sizeof *b);
	double *c = malloc(n * n * sizeof *c);
	if (!a || !b || !c) {
		perror("loops: malloc");
		return 1;
	}
	unsigned long long seed = 3;
	for (size_t i = 0; i < n * n; i++) {
		a[i] = (double)(sample_rand(&seed) % 1000) / 7;
		b[i] = (double)(sample_rand(&seed) % 1000) / 13;
	}

	if (fast)
		matmul_row_order(n, a, b, c);
	else
		matmul_column_order(n, a, b, c);

	uint64_t checksum = 0;
	for (size_t i = 0; i < n * n; i++) {
		uint64_t bits;
		memcpy(&bits, &c[i], sizeof bits);
		checksum = checksum * 1000003 + bits;
	}
	printf("loops: %zux%zu product, checksum %016llx\n", n, n, (unsigned long long)checksum);
	free(a);
	free(b);
	free(c);
	return 0;
}
