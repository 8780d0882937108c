/* A library that does nothing: the "other.so" a program puts in LD_PRELOAD
 * in place of the agent (`env LD_PRELOAD=other.so prog`). */
int runnoop_marker(void)
{
	return 42;
}
