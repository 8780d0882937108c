/* A C program that carries Go's build-id note (the `Go` note of type 4 in
 * .note.go.buildid) as a Go binary does: the agent must take it for a Go
 * program and leave it alone. Prints "rungofake ran" and exits 3. */
#include <stdio.h>

__asm__(".section .note.go.buildid,\"a\",@note\n"
	".balign 4\n"
	".long 4, 8, 4\n" /* namesz ("Go" padded), descsz, type 4: Go build id */
	".asciz \"Go\"\n"
	".byte 0\n"
	".ascii \"fakeid!\\0\"\n"
	".previous\n");

int main(void)
{
	printf("rungofake ran\n");
	return 3;
}
