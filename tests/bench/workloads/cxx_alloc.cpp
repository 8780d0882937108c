// A C++ allocation workload for the benchmarks (tests/bench): many small
// std::string, std::vector and std::map allocations, deterministic. Build:
// g++ -O2 -g cxx_alloc.cpp -o cxx_alloc; run: cxx_alloc [ROUNDS] (default 20).
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

// A deterministic "word" of 8 to 40 characters: longer than the small-string
// buffer most of the time, so each one allocates.
static std::string word(unsigned long x)
{
	std::string s;
	unsigned len = 8 + (unsigned)(x % 33);
	for (unsigned i = 0; i < len; i++) {
		x = x * 6364136223846793005ul + 1442695040888963407ul;
		s.push_back((char)('a' + (x >> 59) % 26));
	}
	return s;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 20;
	unsigned long total = 0;
	for (int r = 0; r < rounds; r++) {
		std::map<std::string, std::vector<std::string>> index;
		for (unsigned long i = 0; i < 40000; i++) {
			std::string key = word(i % 5000 + (unsigned long)r);
			std::vector<std::string> &v = index[key];
			v.push_back(word(i * 7 + 3));
			v.back() += key.substr(0, 4);
		}
		std::vector<std::string> joined;
		for (auto &kv : index) {
			std::string j = kv.first;
			for (auto &s : kv.second)
				j += "," + s;
			joined.push_back(j);
		}
		for (auto &j : joined)
			total += j.size();
	}
	printf("%lu\n", total);
	return 0;
}
