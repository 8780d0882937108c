// A C++ workload for the user-level test of C++ support: a class template in a
// namespace whose member burns CPU, a lambda that burns CPU, an always-inlined
// hot function, and operator new/delete from the program's own code, some of
// it leaked on purpose.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

namespace cli_ns
{

static volatile unsigned long cli_sink;

// Inlined into Widget<T>::compute: the report must show it as a frame of its own.
static inline __attribute__((always_inline)) unsigned long cli_mix(unsigned long x, unsigned long i)
{
	return x * 6364136223846793005ul + i;
}

template <typename T> class Widget
{
      public:
	explicit Widget(T seed) : seed_(seed) {}
	__attribute__((noinline)) unsigned long compute(unsigned long n) const
	{
		unsigned long x = (unsigned long)seed_;
		for (unsigned long i = 0; i < n; i++) {
			x = cli_mix(x, i);
			/* compute's own work, on its own line: a hot spot of its own. */
			x ^= (x >> 29) * 0x9e3779b97f4a7c15ul;
		}
		return x;
	}

      private:
	T seed_;
};

struct Node {
	Node *next;
	char payload[40];
};

// Allocates with operator new; the caller's code must be the site, not
// libstdc++'s operator new.
__attribute__((noinline)) Node *cli_make_nodes(int n)
{
	Node *head = nullptr;
	for (int i = 0; i < n; i++) {
		Node *node = new Node;
		node->next = head;
		head = node;
	}
	return head;
}

__attribute__((noinline)) void cli_free_nodes(Node *head)
{
	while (head) {
		Node *next = head->next;
		delete head;
		head = next;
	}
}

// Arrays with new[]; a few are leaked.
__attribute__((noinline)) int *cli_leak_array(int n)
{
	return new int[n];
}

} // namespace cli_ns

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200000000ul;
	cli_ns::Widget<int> w(7);
	cli_ns::cli_sink = w.compute(n);

	auto spin = [](unsigned long m) __attribute__((noinline))
	{
		unsigned long y = 1;
		for (unsigned long i = 0; i < m; i++)
			y = y * 2862933555777941757ul + 3037000493ul + (y >> 7);
		return y;
	};
	cli_ns::cli_sink = spin(n / 2);

	// 10,000 nodes made and freed, then 5 leaked arrays of 1000 ints.
	for (int round = 0; round < 10; round++)
		cli_ns::cli_free_nodes(cli_ns::cli_make_nodes(1000));
	std::vector<int *> kept;
	for (int i = 0; i < 5; i++)
		kept.push_back(cli_ns::cli_leak_array(1000));
	std::printf("cli_cxx done %lu %zu\n", (unsigned long)cli_ns::cli_sink, kept.size());
	return 0;
}
