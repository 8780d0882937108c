/* A fake CPython for test-py-badinput: the symbols the agent looks for,
 * with what they hold chosen by FAKEPY_MODE when the library is loaded
 * (its constructor runs inside dlopen, before the agent looks):
 *   new         Py_Version 3.14.0, a version fathom does not know;
 *   ft          3.13.0 whose debug offsets say free-threaded;
 *   nooffsets   3.13.0 without debug offsets;
 *   layout      3.11.2 whose thread state leads to a frame whose code is
 *               not of PyCode_Type (a build with another layout);
 *   storm       3.11.2 whose thread state leads to a frame at an unmapped
 *               address: every walk faults.
 * libfakepy_debug.so adds _Py_NegativeRefcount (a debug build, 3.11.2);
 * libfakepy_stripped.so exports Py_Version alone (3.11.2). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

unsigned long Py_Version = 0x030b02f0;

#ifndef FAKEPY_STRIPPED
/* Offsets of 3.11 (docs/AGENT.md's table): _PyRuntime's _finalizing at 24
 * and interpreters.head at 40; a thread state's interp at 16 and cframe at
 * 56; cframe's current_frame at 8; a frame's code at 32; an object's type
 * at 8. */
_Alignas(64) unsigned char _PyRuntime[4096];
_Alignas(64) unsigned char PyCode_Type[512];
static _Alignas(64) unsigned char g_ts[256], g_cframe[64], g_frame[128], g_notcode[256], g_other_type[512];

void *PyGILState_GetThisThreadState(void)
{
	return g_ts;
}

void _PyEval_EvalFrameDefault(void) {}

/* The allocator entry points, so that --alloc finds them (never
 * initialised: the wrapper is never installed). */
void PyMem_GetAllocator(int domain, void *a)
{
	(void)domain;
	memset(a, 0, 40);
}

void PyMem_SetAllocator(int domain, void *a)
{
	(void)domain;
	(void)a;
}

int Py_IsInitialized(void)
{
	return 0;
}

int PyGILState_Check(void)
{
	return 0;
}

#ifdef FAKEPY_DEBUG
void _Py_NegativeRefcount(void) {}
#endif

static void put(void *at, uintptr_t v)
{
	memcpy(at, &v, sizeof(v));
}

__attribute__((constructor)) static void fakepy_init(void)
{
	const char *m = getenv("FAKEPY_MODE");
	m = m ? m : "";
	uintptr_t interp = (uintptr_t)(_PyRuntime + 1024);
	put(_PyRuntime + 40, interp);
	put(g_ts + 16, interp);
	put(g_ts + 56, (uintptr_t)g_cframe);
	put(g_cframe + 8, (uintptr_t)g_frame);
	put(g_frame + 32, (uintptr_t)g_notcode);
	put(g_notcode + 8, (uintptr_t)g_other_type);
	if (!strcmp(m, "new")) {
		Py_Version = 0x030e00f0;
	} else if (!strcmp(m, "ft") || !strcmp(m, "nooffsets")) {
		Py_Version = 0x030d00f0;
		if (!strcmp(m, "ft")) {
			memcpy(_PyRuntime, "xdebugpy", 8);
			put(_PyRuntime + 8, Py_Version);
			put(_PyRuntime + 16, 1);
		}
	} else if (!strcmp(m, "storm")) {
		put(g_cframe + 8, 16);
	}
}
#endif
