/* The symbolizer and a module recorded under a relative path (as agents
 * before issue 12 recorded dlopen("./libx.so")): it is read from the
 * current directory only when its build id proves it is the recorded file. */
#define _GNU_SOURCE
#include <elf.h>
#include <limits.h>
#include <link.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "symbols.h"

static uintptr_t g_bias;
static uint8_t g_build_id[64];
static size_t g_build_id_len;

__attribute__((noinline)) int mod_symbols_target(int x)
{
	return x * 3 + 1;
}

static int first_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	(void)data;
	g_bias = info->dlpi_addr;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			const uint8_t *name = p + sizeof(*nh), *desc = name + ((nh->n_namesz + 3) & ~3u);
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_descsz <= sizeof(g_build_id)) {
				memcpy(g_build_id, desc, nh->n_descsz);
				g_build_id_len = nh->n_descsz;
			}
			p = desc + ((nh->n_descsz + 3) & ~3u);
		}
	}
	return 1; /* the program itself only */
}

/* Runs in the directory of this test program, naming it "./NAME". */
static int setup(void **state)
{
	static char rel[PATH_MAX];
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = 0;
	char *slash = strrchr(exe, '/');
	snprintf(rel, sizeof(rel), "./%s", slash + 1);
	*slash = 0;
	if (chdir(exe) < 0)
		return -1;
	dl_iterate_phdr(first_cb, NULL);
	*state = rel;
	return 0;
}

static const char *lookup(const char *path, const uint8_t *id, size_t id_len)
{
	static char name[64];
	struct symbolizer *s = symbols_new(NULL, 0);
	assert_non_null(s);
	const char *warning;
	struct sym_module *m = symbols_module(s, path, id, id_len, &warning);
	assert_non_null(m);
	struct sym_frame f[8];
	int n = symbols_lookup(s, m, (uintptr_t)mod_symbols_target - g_bias, f, 8);
	name[0] = 0;
	if (n > 0 && f[n - 1].name)
		snprintf(name, sizeof(name), "%s", f[n - 1].name);
	symbols_free(s);
	return name;
}

static void relative_with_build_id(void **state)
{
	if (!g_build_id_len)
		skip();
	assert_string_equal(lookup(*state, g_build_id, g_build_id_len), "mod_symbols_target");
}

/* Another file under the same name, or no build id to check: no symbols. */
static void relative_not_proven(void **state)
{
	if (!g_build_id_len)
		skip();
	uint8_t other[64];
	memcpy(other, g_build_id, g_build_id_len);
	other[0] ^= 0xff;
	assert_string_equal(lookup(*state, other, g_build_id_len), "");
	assert_string_equal(lookup(*state, NULL, 0), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(relative_with_build_id),
	    cmocka_unit_test(relative_not_proven),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
