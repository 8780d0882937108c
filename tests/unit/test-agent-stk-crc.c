/* Unit test of the agent's chunk checksum (enc_crc32c): the same CRC-32C as
 * fd_crc32c, which the reader checks, for every length and alignment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "encode.h"
#include "fathom-dump.h"

#include <stdint.h>

static void test_known(void **state)
{
	(void)state;
	/* The check value of CRC-32C. */
	assert_int_equal(enc_crc32c("123456789", 9), 0xe3069283u);
	assert_int_equal(enc_crc32c("", 0), 0);
}

static void test_same(void **state)
{
	(void)state;
	static uint8_t buf[4096 + 16];
	uint64_t x = 88172645463325252ull;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
	for (size_t off = 0; off < 16; off++)
		for (size_t len = 0; len + off <= sizeof(buf); len += len < 64 ? 1 : 61)
			assert_int_equal(enc_crc32c(buf + off, len), fd_crc32c(0, buf + off, len));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_known),
	    cmocka_unit_test(test_same),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
