/* Unit tests of the C++ name reader (cxxname.c: template arguments elided,
 * the qualified name past a return type) and of the allocation site rule
 * (site.c) on hand-made frames of a C++ allocation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cxxname.h"
#include "fixture.h"
#include "site.h"

static void check_short(const char *name, const char *want)
{
	char buf[512];
	assert_string_equal(cxxname_short(name, buf, sizeof(buf)), want);
}

static void test_short(void **state)
{
	(void)state;
	check_short("std::vector<double, std::allocator<double> >::push_back(double const&)",
		    "std::vector<…>::push_back(double const&)");
	check_short(
	    "void std::vector<int, std::allocator<int> >::_M_realloc_insert<int const&>("
	    "__gnu_cxx::__normal_iterator<int*, std::vector<int, std::allocator<int> > >, int const&)",
	    "void std::vector<…>::_M_realloc_insert<…>(__gnu_cxx::__normal_iterator<…>, int const&)");
	/* operators that look like brackets are kept */
	check_short(
	    "std::basic_ostream<char, std::char_traits<char> >& std::operator<< <std::char_traits<char> >("
	    "std::basic_ostream<char, std::char_traits<char> >&, char const*)",
	    "std::basic_ostream<…>& std::operator<< <…>(std::basic_ostream<…>&, char const*)");
	check_short("bool operator<(Key const&, Key const&)", "bool operator<(Key const&, Key const&)");
	check_short("Cmp<int>::operator<=>(Cmp<int> const&) const",
		    "Cmp<…>::operator<=>(Cmp<…> const&) const");
	check_short("Ptr<Node>::operator->() const", "Ptr<…>::operator->() const");
	check_short("std::function<int (int)>::operator()(int) const",
		    "std::function<…>::operator()(int) const");
	/* lambdas keep their numbers; names without templates are untouched */
	check_short("main::{lambda(double)#2}::operator()(double) const",
		    "main::{lambda(double)#2}::operator()(double) const");
	check_short("compute", "compute");
	/* a buffer too small cuts the name, never overflows */
	char small[12];
	const char *s = cxxname_short("std::vector<int>::push_back_something_long", small, sizeof(small));
	assert_true(strlen(s) < sizeof(small));
}

static void test_qualified(void **state)
{
	(void)state;
	assert_string_equal(cxxname_qualified("std::vector<int>::push_back(int const&)"),
			    "std::vector<int>::push_back(int const&)");
	assert_string_equal(
	    cxxname_qualified(
		"double& std::vector<double, std::allocator<double> >::emplace_back<double>(double&&)"),
	    "std::vector<double, std::allocator<double> >::emplace_back<double>(double&&)");
	assert_string_equal(cxxname_qualified("unsigned long std::f<int>(int)"), "std::f<int>(int)");
	assert_string_equal(cxxname_qualified("operator new(unsigned long)"), "operator new(unsigned long)");
	assert_string_equal(cxxname_qualified("(anonymous namespace)::g(int)"),
			    "(anonymous namespace)::g(int)");
	assert_string_equal(cxxname_qualified("std::integral_constant<bool, false>::operator bool() const"),
			    "std::integral_constant<bool, false>::operator bool() const");
	assert_string_equal(cxxname_qualified("main"), "main");
}

/* fill(int) -> vector::push_back (inlined) -> _M_realloc_insert ->
 * __new_allocator::allocate (inlined) -> operator new (libstdc++) */
static void test_site(void **state)
{
	(void)state;
	struct profile p;
	fx_init(&p);
	uint32_t libstd = fx_module(&p, 0, "libstdc++.so.6", 0, 0, 0),
		 prog = fx_module(&p, 0, "prog", 0, 0, 0);
	fx_func(&p, "operator new(unsigned long)", NULL, libstd, 0);
	fx_func(&p, "std::__new_allocator<double>::allocate(unsigned long, void const*)",
		"/usr/include/c++/12/bits/new_allocator.h", prog, 0);
	fx_func(&p, "void std::vector<double, std::allocator<double> >::_M_realloc_insert<double>(double&&)",
		"/usr/include/c++/12/bits/vector.tcc", prog, 0);
	fx_func(&p, "std::vector<double, std::allocator<double> >::push_back(double&&)",
		"/usr/include/c++/12/bits/stl_vector.h", prog, 0);
	fx_func(&p, "fill(int)", "/src/prog.cpp", prog, 0);
	/* a specialization in the std namespace, written in the program */
	fx_func(&p, "std::hash<Key>::operator()(Key const&) const", "/src/prog.cpp", prog, 0);
	fx_func(&p, "strdup", NULL, FA_NONE, 0);
	struct fa_frame fr[] = {{0, 0}, {1, 137}, {2, 453}, {3, 1287}, {4, 16}};
	assert_int_equal(site_first(&p, fr, 5, SITE_USER), 4);
	assert_int_equal(site_first(&p, fr, 5, SITE_RAW), 1);
	/* never past the last frame */
	assert_int_equal(site_first(&p, fr, 3, SITE_USER), 2);
	struct fa_frame spec[] = {{0, 0}, {5, 9}, {4, 20}};
	assert_int_equal(site_first(&p, spec, 3, SITE_USER), 1);
	struct fa_frame dup[] = {{6, 0}, {4, 30}};
	assert_int_equal(site_first(&p, dup, 2, SITE_USER), 1);
	assert_int_equal(site_first(&p, dup, 2, SITE_RAW), 1);
	profile_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_short),
	    cmocka_unit_test(test_qualified),
	    cmocka_unit_test(test_site),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
