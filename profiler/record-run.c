/* fathom record's run: the agent found, the dumps named, the agent's
 * settings as environment (a launch) or configuration (an attach), the
 * command started and waited for with the supervisor's signals forwarded. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "outfile.h"
#include "record.h"

#ifndef FATHOM_AGENT_RELPATH
#define FATHOM_AGENT_RELPATH "../lib/fathom/libfathom.so"
#endif

/* The agent: $FATHOM_AGENT, or FATHOM_AGENT_RELPATH from this program's
 * directory (the build tree's bin/ and an install prefix's bin/ alike). */
static char *find_agent(void)
{
	const char *env = getenv("FATHOM_AGENT");
	if (env && *env)
		return realpath(env, NULL);
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return NULL;
	self[n] = 0;
	char *slash = strrchr(self, '/');
	if (!slash)
		return NULL;
	*slash = 0;
	char *path;
	if (asprintf(&path, "%s/%s", self, FATHOM_AGENT_RELPATH) < 0)
		return NULL;
	char *real = realpath(path, NULL);
	free(path);
	return real;
}

/* An absolute version of `path`, since the command may change directory. */
static char *absolute(const char *path)
{
	if (path[0] == '/')
		return strdup(path);
	char cwd[PATH_MAX];
	char *abs;
	if (!getcwd(cwd, sizeof(cwd)) || asprintf(&abs, "%s/%s", cwd, path) < 0)
		return NULL;
	return abs;
}

/* Whether the agent can create files in the directory of `path`: checked
 * before the command runs, because the agent, inside the target, can only
 * warn and run it unprofiled, and a recording that silently did not happen
 * is worse than a clear refusal. */
static int check_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash == path ? 1 : slash - path), path);
	struct stat st;
	if (stat(dir, &st) < 0) {
		fprintf(stderr, "fathom record: cannot write the dump in %s: %s\n", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "fathom record: cannot write the dump in %s: not a directory\n", dir);
		return -1;
	}
	if (access(dir, W_OK | X_OK) < 0) {
		fprintf(stderr, "fathom record: cannot write the dump in %s: %s\n", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* Signals that a supervisor sends to fathom (a CI runner's SIGTERM, a
 * closed terminal's SIGHUP) are meant for the program it runs: forwarded,
 * so that the program ends (or does what it does with them) and fathom
 * stays to report, instead of leaving the program running unsupervised. */
static const int forwarded[] = {SIGTERM, SIGHUP, SIGUSR1, SIGUSR2};
static volatile pid_t child_pid;

/* Context: signal handler; kill() is async-signal-safe. */
static void forward(int sig)
{
	int e = errno;
	if (child_pid > 0)
		kill(child_pid, sig);
	errno = e;
}

/* The run id that every dump of this run shares (FATHOM_RUN, kept in each
 * dump's NOTE record) and that names them: the local start time,
 * YYYYMMDD-HHMMSS, with -2, -3, ... when a run of that second already left
 * fathom.ID.* files in `dir`, so that `fathom.ID.*.fdump` selects this run
 * alone. */
static void make_run_id(char *id, size_t cap, const char *dir)
{
	time_t now = time(NULL);
	struct tm tm;
	char base[32];
	strftime(base, sizeof(base), "%Y%m%d-%H%M%S", localtime_r(&now, &tm));
	for (int n = 1;; n++) {
		if (n == 1)
			snprintf(id, cap, "%s", base);
		else
			snprintf(id, cap, "%s-%d", base, n);
		char prefix[64];
		int pl = snprintf(prefix, sizeof(prefix), "fathom.%s.", id);
		DIR *d = opendir(dir);
		struct dirent *de;
		bool taken = false;
		while (d && !taken && (de = readdir(d)))
			taken = !strncmp(de->d_name, prefix, (size_t)pl);
		if (d)
			closedir(d);
		if (!taken || n > 1000)
			return;
	}
}

/* Finds the agent; says why not and returns the exit status, or -1. */
int record_setup_agent(struct rec *r)
{
	r->agent = find_agent();
	if (!r->agent) {
		fprintf(stderr,
			"fathom record: the agent libfathom.so was not found next to fathom (%s from its "
			"directory); set FATHOM_AGENT to its path\n",
			getenv("FATHOM_AGENT") && *getenv("FATHOM_AGENT") ? getenv("FATHOM_AGENT")
									  : FATHOM_AGENT_RELPATH);
		return 1;
	}
	/* LD_PRELOAD separates its entries by spaces and colons, with no way to
	 * quote them: an agent under "/opt/my tools" would silently not load. */
	if (strpbrk(r->agent, " :")) {
		fprintf(stderr,
			"fathom record: the agent's path '%s' holds a space or a colon, which LD_PRELOAD "
			"cannot carry; install fathom under another directory, or point FATHOM_AGENT at a "
			"copy elsewhere\n",
			r->agent);
		return 1;
	}
	return -1;
}

/* Where dumps go: r->pattern (and r->final with -o FILE), the run id, and
 * the manifest file. With -o FILE every process writes FILE.PID, and the
 * main process's dump is renamed to FILE afterwards, so the name given is
 * the one a user opens, and no process can clobber another's. Says why not
 * and returns the exit status, or -1. */
int record_setup_dumps(struct rec *r)
{
	const char *output = r->output;
	if (output && strstr(output, "%p")) {
		r->pattern = absolute(output);
	} else if (output) {
		/* Checked now, so that a name that will be refused (a stranger's
		 * link in /tmp, a directory) does not cost a run; installed at
		 * the end by outfile_install, which checks again. */
		struct outfile_target t;
		char *err = NULL;
		int rc = outfile_resolve(output, &t, &err);
		if (rc) {
			fprintf(stderr, "fathom record: %s\n", err ? err : strerror(-rc));
			free(err);
			return 2;
		}
		/* A regular file: the dumps are made beside it (beside the file a
		 * link of the user's points to), and the main one renamed over it.
		 * A device, a FIFO or stdout: they are made in the temporary
		 * directory, not as /dev/null.PID, and the main one is copied in. */
		char *base = NULL;
		if (t.kind == OUTFILE_FILE) {
			r->final = absolute(t.path);
		} else {
			const char *tn = getenv("TMPDIR");
			const char *leaf = strrchr(output, '/') ? strrchr(output, '/') + 1 : output;
			if (!strcmp(output, "-"))
				leaf = "stdout";
			if (asprintf(&base, "%s/fathom-%s", tn && *tn ? tn : "/tmp", leaf) < 0)
				base = NULL;
			r->final = strdup(output);
		}
		bool to_device = t.kind != OUTFILE_FILE;
		outfile_target_free(&t);
		const char *from = base ? base : to_device ? NULL : r->final;
		/* The agent expands %p and %%: a literal % is doubled. */
		size_t n = from ? strlen(from) : 0, k = 0;
		char *pattern = from ? malloc(2 * n + 4) : NULL;
		for (size_t i = 0; pattern && i < n; i++) {
			if (from[i] == '%')
				pattern[k++] = '%';
			pattern[k++] = from[i];
		}
		free(base);
		if (pattern)
			memcpy(pattern + k, ".%p", 4);
		r->pattern = pattern;
	}
	make_run_id(r->run_id, sizeof(r->run_id), ".");
	if (!output) {
		char name[96];
		snprintf(name, sizeof(name), "fathom.%s.%%p.fdump", r->run_id);
		r->pattern = absolute(name);
	}
	if (r->pattern && check_dir(r->pattern) < 0)
		return 2;
	const char *tmp = getenv("TMPDIR");
	snprintf(r->manifest, sizeof(r->manifest), "%s/fathom-manifest-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int mfd = mkstemp(r->manifest);
	if (!r->pattern || mfd < 0) {
		fprintf(stderr, "fathom record: cannot set up the recording: %s\n", strerror(errno));
		r->manifest[0] = 0;
		return 1;
	}
	close(mfd);
	return -1;
}

struct agent_var {
	const char *name, *value; /* value NULL: not set */
};

/* The FATHOM_* variables that make the agent record as asked: the
 * environment of a launch, the configuration of an attach. */
static size_t agent_vars(const struct rec *r, struct agent_var *env, size_t cap)
{
	const struct agent_var all[] = {
	    {"FATHOM_OUTPUT", r->pattern},
	    {"FATHOM_MANIFEST", r->manifest},
	    {"FATHOM_RUN", r->run_id},
	    {"FATHOM_CPU", r->no_cpu ? "0" : NULL},
	    {"FATHOM_HZ", r->hz},
	    {"FATHOM_CLOCK", r->clock},
	    {"FATHOM_ALLOC", r->alloc},
	    {"FATHOM_ALLOC_SAMPLE", r->sample_bytes[0] ? r->sample_bytes : NULL},
	    {"FATHOM_WAIT", r->wait},
	    {"FATHOM_WAIT_THRESHOLD", r->wait_threshold},
	    {"FATHOM_START", r->paused ? "off" : NULL},
	    {"FATHOM_DELAY", r->delay_at[0] ? r->delay_at : NULL},
	    {"FATHOM_DURATION", r->duration_s[0] ? r->duration_s : NULL},
	    {"FATHOM_SNAPSHOT_EVERY", r->snapshot_s[0] ? r->snapshot_s : NULL},
	    {"FATHOM_ROTATE", r->rotate_s[0] ? r->rotate_s : NULL},
	};
	size_t n = 0;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]) && n < cap; i++)
		if (all[i].value)
			env[n++] = all[i];
	return n;
}

/* The command's environment: this one's, as setenv() would change it (a
 * variable set replaces its first entry in place, else comes last). */
struct env {
	char **v;
	size_t n, cap;
	char *own[40]; /* the "NAME=VALUE" strings made here, freed after */
	size_t nown;
};

/* Returns -1 when out of memory. */
static int env_set(struct env *e, const char *name, const char *value)
{
	char *s;
	if (e->nown == sizeof(e->own) / sizeof(e->own[0]) || asprintf(&s, "%s=%s", name, value) < 0)
		return -1;
	e->own[e->nown++] = s;
	size_t l = strlen(name);
	for (size_t i = 0; i < e->n; i++)
		if (!strncmp(e->v[i], name, l) && e->v[i][l] == '=') {
			e->v[i] = s;
			return 0;
		}
	if (e->n + 2 > e->cap) {
		size_t cap = e->cap * 2 + 16;
		char **v = realloc(e->v, cap * sizeof(*v));
		if (!v)
			return -1;
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n++] = s;
	e->v[e->n] = NULL;
	return 0;
}

static void env_free(struct env *e)
{
	for (size_t i = 0; i < e->nown; i++)
		free(e->own[i]);
	free(e->v);
}

/* The environment that makes the agent record, built before the command
 * starts (the child of a vfork may not allocate). Returns -1 when out of
 * memory. */
static int agent_env(const struct rec *r, struct env *e)
{
	extern char **environ;
	size_t n = 0;
	while (environ && environ[n])
		n++;
	e->cap = n + 24;
	e->v = malloc(e->cap * sizeof(*e->v));
	if (!e->v)
		return -1;
	memcpy(e->v, environ, n * sizeof(*e->v));
	e->v[n] = NULL;
	e->n = n;
	const char *old = getenv("LD_PRELOAD");
	char *preload = r->agent;
	if (old && *old && asprintf(&preload, "%s:%s", r->agent, old) < 0)
		return -1;
	int rc = env_set(e, "LD_PRELOAD", preload);
	if (preload != r->agent)
		free(preload);
	if (rc < 0)
		return -1;
	/* --jit: the runtimes' own switches for perf maps, after the user's
	 * NODE_OPTIONS (node reads V8 flags there; interpreted functions get
	 * code of their own, so they are named too). */
	if (r->jit) {
		const char *node_old = getenv("NODE_OPTIONS");
		char *node_opts = NULL;
		if (asprintf(&node_opts, "%s%s--perf-basic-prof --interpreted-frames-native-stack",
			     node_old ? node_old : "", node_old && *node_old ? " " : "") < 0)
			return -1;
		rc = env_set(e, "NODE_OPTIONS", node_opts);
		free(node_opts);
		if (rc < 0 || env_set(e, "PYTHONPERFSUPPORT", "1") < 0)
			return -1;
	}
	struct agent_var vars[32];
	size_t nv = agent_vars(r, vars, 32);
	for (size_t i = 0; i < nv; i++)
		if (env_set(e, vars[i].name, vars[i].value) < 0)
			return -1;
	return 0;
}

/* fathom record --pid: the agent is loaded into the running process and
 * given the same settings as "NAME=VALUE" lines (attach.c). The recording
 * ends at --duration, which the command itself keeps. */
int record_attach(struct rec *r)
{
	struct agent_var env[32];
	size_t n = agent_vars(r, env, 32), len = 32;
	for (size_t i = 0; i < n; i++)
		len += strlen(env[i].name) + strlen(env[i].value) + 2;
	char *config = malloc(len), *p = config;
	if (!config)
		return 1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(env[i].name, "FATHOM_DURATION"))
			p += sprintf(p, "%s=%s\n", env[i].name, env[i].value);
	/* The pid the agent names its control channel by: ours, which is not
	 * its own when it runs in another PID namespace (a container). */
	p += sprintf(p, "FATHOM_CTL_PID=%d\n", (int)r->attach_pid);
	*p = 0;
	struct attach_req a = {.pid = r->attach_pid,
			       .agent = r->agent,
			       .config = config,
			       .manifest = r->manifest,
			       .duration = r->duration,
			       .quiet = r->quiet};
	r->pid = r->attach_pid;
	int rc = attach_run(&a);
	free(config);
	return rc;
}

/* Starts the command with the agent's environment: vfork, so that fathom's
 * pages are neither copied nor write-protected for a child that only
 * execs; the child shares them until then, and writes nothing but
 * exec_errno. The forwarded signals come back blocked in *old_mask's stead:
 * record_wait() installs their handlers and unblocks them. Returns -1 to go
 * on, or says why not and returns the exit status (127: the command not
 * found, 126: not executable). */
int record_spawn(struct rec *r, sigset_t *old_mask)
{
	struct env env = {0};
	if (agent_env(r, &env) < 0) {
		env_free(&env);
		fprintf(stderr, "fathom record: %s\n", strerror(ENOMEM));
		return 1;
	}
	fflush(NULL);
	/* Blocked across the start, so that none arrives before the handlers
	 * are in place (in fathom) or the defaults restored (in the command). */
	sigset_t fwd;
	sigemptyset(&fwd);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&fwd, forwarded[i]);
	sigprocmask(SIG_BLOCK, &fwd, old_mask);
	static volatile int exec_errno;
	exec_errno = 0;
	pid_t pid = vfork();
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, old_mask, NULL);
		execvpe(r->cmd[0], r->cmd, env.v);
		exec_errno = errno;
		_exit(exec_errno == ENOENT ? 127 : 126);
	}
	int e = pid < 0 ? errno : exec_errno;
	env_free(&env);
	if (pid < 0) {
		sigprocmask(SIG_SETMASK, old_mask, NULL);
		fprintf(stderr, "fathom record: fork: %s\n", strerror(e));
		return 1;
	}
	if (e) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		sigprocmask(SIG_SETMASK, old_mask, NULL);
		if (e == ENOENT)
			fprintf(stderr, "fathom record: %s: command not found\n", r->cmd[0]);
		else
			fprintf(stderr, "fathom record: %s: %s\n", r->cmd[0], strerror(e));
		return e == ENOENT ? 127 : 126;
	}
	r->pid = pid;
	return -1;
}

/* Waits for the command, forwarding the supervisor's signals to it and
 * ignoring ^C meanwhile, and returns its exit status the shell's way
 * (128+N when signal N killed it). */
int record_wait(struct rec *r, const sigset_t *old_mask)
{
	child_pid = r->pid;
	struct sigaction fwd_act = {.sa_handler = forward, .sa_flags = SA_RESTART}, old_fwd[4];
	sigemptyset(&fwd_act.sa_mask);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaction(forwarded[i], &fwd_act, &old_fwd[i]);
	sigprocmask(SIG_SETMASK, old_mask, NULL);
	/* Like time(1): a ^C goes to the command, and fathom stays to report. */
	struct sigaction ign = {.sa_handler = SIG_IGN}, old_int, old_quit;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	int status = 0;
	while (waitpid(r->pid, &status, 0) < 0 && errno == EINTR)
		;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	child_pid = 0;
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaction(forwarded[i], &old_fwd[i], NULL);
	return WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
}
