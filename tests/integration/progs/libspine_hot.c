/* A library that spine_dlopen loads at run time; its one function is hot. */
static volatile unsigned long spine_hot_sink;

__attribute__((noinline)) unsigned long spine_hot_work(unsigned long n)
{
	unsigned long x = spine_hot_sink;
	for (unsigned long i = 0; i < n; i++)
		x = x * 2862933555777941757ul + i;
	spine_hot_sink = x;
	return x;
}
