/* The fathom command: a table of subcommands, and nothing else. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"

static const struct cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} cmds[] = {
    {"record", cmd_record, "run a program under the agent and write its dump"},
    {"report", cmd_report, "CPU hotspots: top functions by self and total time"},
    {"mem", cmd_mem, "heap: peak, leaks, allocation sites, temporaries"},
    {"flame", cmd_flame, "flame graph as interactive SVG, or folded stacks"},
    {"export", cmd_export, "write pprof, speedscope or folded stacks"},
    {"view", cmd_view, "write a self-contained interactive HTML report"},
    {"lines", cmd_lines, "source lines of the hottest functions with CPU and memory"},
    {"wait", cmd_wait, "where threads waited: locks and their holders, I/O, sleeps (record --wait)"},
    {"pack", cmd_pack, "make dumps portable: their names, lines (and sources) inside"},
    {"diff", cmd_diff, "compare two recordings; exit 1 on a regression"},
    {"check", cmd_check, "check one recording against budgets; exit 1 when over"},
    {"ctl", cmd_ctl, "start or stop recording in a running process, or mark a snapshot"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: fathom COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "\nRun 'fathom COMMAND --help' or 'man fathom-COMMAND' for a command's options.\n"
		   "Example: fathom record -- ./app args && fathom report fathom.*.fdump\n");
}

/* Exits with status 1 (a failure) when stdout could not be written (a full disk, a closed pipe). */
static int finish(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			fprintf(stderr, "fathom: writing output: %s\n", strerror(errno));
		return status ? status : 1;
	}
	return status;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *name = argv[1];
	if (!strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "help")) {
		usage(stdout);
		return finish(0);
	}
	if (!strcmp(name, "--version") || !strcmp(name, "version")) {
		printf("fathom %s\n", FATHOM_VERSION);
		return finish(0);
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(name, cmds[i].name))
			return finish(cmds[i].run(argc - 1, argv + 1));
	fprintf(stderr, "fathom: unknown command '%s'", name);
	const char *names[sizeof(cmds) / sizeof(cmds[0]) + 1];
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		names[i] = cmds[i].name;
	names[sizeof(cmds) / sizeof(cmds[0])] = NULL;
	const char *best = cmd_suggest(name, names);
	if (best)
		fprintf(stderr, "; did you mean '%s'?", best);
	fprintf(stderr, "\n");
	usage(stderr);
	return 2;
}
