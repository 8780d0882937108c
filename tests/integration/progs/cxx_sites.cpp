// Two lambdas of one function with different costs, both inlined into the
// template that calls them (so only DWARF knows them), and allocations made
// through std::vector, std::map and std::string in the program's own named
// functions: the C++ facts test-cxx-sites.sh checks.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

static volatile double cxx_sink;

// Calls f on every element: each lambda is inlined into its own instance.
template <typename F> __attribute__((noinline)) double cxx_apply(const std::vector<double> &v, F f)
{
	double s = 0;
	for (double x : v)
		s += f(x);
	return s;
}

// 1,000 push_backs: the vector grows 11 times (1, 2, 4 ... 1024 elements).
__attribute__((noinline)) size_t cxx_fill_vector(int n)
{
	std::vector<double> v;
	for (int i = 0; i < n; i++)
		v.push_back(i * 0.5);
	return v.size();
}

// One node per key.
__attribute__((noinline)) size_t cxx_fill_map(int n)
{
	std::map<int, double> m;
	for (int i = 0; i < n; i++)
		m[i] = i * 0.25;
	return m.size();
}

__attribute__((noinline)) size_t cxx_make_string(int n)
{
	std::string s;
	for (int i = 0; i < n; i++)
		s += "a piece of text longer than the small string buffer ";
	return s.size();
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? std::atoi(argv[1]) : 60;
	std::vector<double> v(250000);
	for (size_t i = 0; i < v.size(); i++)
		v[i] = (double)i;
	double acc = 0;
	for (int r = 0; r < rounds; r++) {
		// about three times the work of the next one
		acc += cxx_apply(v, [](double x) {
			double y = x;
			for (int i = 0; i < 6; i++)
				y = std::sqrt(y * y + 1.0) * 0.999;
			return y;
		});
		acc += cxx_apply(v, [](double x) {
			double y = x;
			for (int i = 0; i < 2; i++)
				y = std::sqrt(y * y + 1.0) * 0.999;
			return y;
		});
	}
	cxx_sink = acc;
	size_t total = 0;
	for (int r = 0; r < 20; r++) {
		total += cxx_fill_vector(1000);
		total += cxx_fill_map(100);
		total += cxx_make_string(20);
	}
	std::printf("cxx_sites done %zu\n", total);
	return 0;
}
