/* Makes 2^17 = 131,072 distinct call stacks for the viewer's speed test: each
 * allocation happens at the end of its own path through 17 levels of two
 * functions each (level k calls variant a or b of level k+1 by bit k). */
#include <stdio.h>
#include <stdlib.h>

#define LEVELS 17
static void *blocks[1u << LEVELS];
static volatile unsigned sink;

/* Keeps each call out of tail position, so every level stays on the stack. */
#define KEEP() __asm__ volatile("" ::: "memory")

__attribute__((noinline)) static void view_leaf(unsigned i)
{
	blocks[i] = malloc(16 + (i & 63));
	KEEP();
}

#define LEVEL(k, next)                                                                                       \
	__attribute__((noinline)) static void view_l##k##_a(unsigned i)                                      \
	{                                                                                                    \
		next(i);                                                                                     \
		KEEP();                                                                                      \
	}                                                                                                    \
	__attribute__((noinline)) static void view_l##k##_b(unsigned i)                                      \
	{                                                                                                    \
		next(i);                                                                                     \
		KEEP();                                                                                      \
		sink++;                                                                                      \
	}
#define PICK(k) (i >> (k)&1 ? view_l##k##_b : view_l##k##_a)

LEVEL(16, view_leaf)
static void go16(unsigned i)
{
	PICK(16)(i);
}
LEVEL(15, go16)
static void go15(unsigned i)
{
	PICK(15)(i);
}
LEVEL(14, go15)
static void go14(unsigned i)
{
	PICK(14)(i);
}
LEVEL(13, go14)
static void go13(unsigned i)
{
	PICK(13)(i);
}
LEVEL(12, go13)
static void go12(unsigned i)
{
	PICK(12)(i);
}
LEVEL(11, go12)
static void go11(unsigned i)
{
	PICK(11)(i);
}
LEVEL(10, go11)
static void go10(unsigned i)
{
	PICK(10)(i);
}
LEVEL(9, go10)
static void go9(unsigned i)
{
	PICK(9)(i);
}
LEVEL(8, go9)
static void go8(unsigned i)
{
	PICK(8)(i);
}
LEVEL(7, go8)
static void go7(unsigned i)
{
	PICK(7)(i);
}
LEVEL(6, go7)
static void go6(unsigned i)
{
	PICK(6)(i);
}
LEVEL(5, go6)
static void go5(unsigned i)
{
	PICK(5)(i);
}
LEVEL(4, go5)
static void go4(unsigned i)
{
	PICK(4)(i);
}
LEVEL(3, go4)
static void go3(unsigned i)
{
	PICK(3)(i);
}
LEVEL(2, go3)
static void go2(unsigned i)
{
	PICK(2)(i);
}
LEVEL(1, go2)
static void go1(unsigned i)
{
	PICK(1)(i);
}
LEVEL(0, go1)
static void go0(unsigned i)
{
	PICK(0)(i);
}

int main(void)
{
	for (unsigned i = 0; i < 1u << LEVELS; i++)
		go0(i);
	for (unsigned i = 0; i < 1u << LEVELS; i++)
		free(blocks[i]);
	printf("%u stacks\n", 1u << LEVELS);
	return 0;
}
