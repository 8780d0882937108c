/* The JSON objects shared by every command's JSON output (see json-profile.h). */
#include "fathom-dump.h"
#include "json-profile.h"

#include <stdio.h>

void json_process(struct json *j, const struct fa_process *pr)
{
	json_object_begin(j, NULL);
	json_string(j, "file", pr->path);
	json_int(j, "pid", pr->pid);
	json_int(j, "ppid", pr->ppid);
	json_int(j, "generation", pr->generation);
	json_string(j, "run_id", pr->run_id);
	json_string(j, "exe", pr->exe);
	json_string(j, "cmdline", pr->cmdline);
	json_uint(j, "hz", pr->hz);
	json_string(j, "clock", pr->clock == FD_CLOCK_WALL ? "wall" : "cpu");
	json_string(j, "alloc_mode",
		    pr->alloc_mode == FD_ALLOC_EXACT	 ? "exact"
		    : pr->alloc_mode == FD_ALLOC_SAMPLED ? "sampled"
							 : "off");
	json_uint(j, "alloc_sample_bytes", pr->alloc_sample_bytes);
	/* Milliseconds: nanoseconds since the epoch lose precision as a
	 * JavaScript number. */
	json_uint(j, "start_ms", pr->start_real_ns / 1000000);
	json_uint(j, "duration_ns", pr->duration_ns);
	json_uint(j, "samples", pr->samples);
	json_uint(j, "sample_weight", pr->sample_weight);
	json_uint(j, "lost_samples", pr->lost_samples);
	json_uint(j, "lost_alloc", pr->lost_alloc);
	json_string(j, "alloc_bypass", pr->alloc_bypass);
	json_string(j, "cpu_unavailable", pr->cpu_unavailable);
	json_uint(j, "cpu_unsampled_threads", pr->cpu_unsampled_threads);
	json_uint(j, "cpu_in_agent_weight", pr->cpu_in_agent);
	json_uint(j, "agent_left_out_weight", pr->agent_left_out);
	json_bool(j, "complete", pr->complete);
	char sig[32];
	json_string(j, "end_signal", pr->end_signal ? signal_name(sig, sizeof(sig), pr->end_signal) : NULL);
	json_string(j, "damage", pr->damage);
	json_uint(j, "wait_threshold_ns", pr->wait_threshold_ns);
	/* The windows and snapshots (format 1.4). */
	json_array_begin(j, "marks");
	for (size_t i = 0; i < pr->nmarks; i++) {
		const struct fa_mark *m = &pr->marks[i];
		static const char *const what[] = {"start", "stop", "snapshot", "rotate"};
		json_object_begin(j, NULL);
		json_string(j, "what", m->what >= 0 && m->what < 4 ? what[m->what] : "at");
		json_uint(j, "time_ns", m->time_ns);
		json_uint(j, "seq", m->seq);
		json_uint(j, "id", m->id);
		json_string(j, "label", m->label);
		if (m->heap_known)
			json_int(j, "heap_bytes", m->heap_bytes);
		else
			json_null(j, "heap_bytes");
		json_object_end(j);
	}
	json_array_end(j);
	if (pr->timer_samples) {
		json_uint(j, "first_sample_ns", pr->first_sample_ns);
		json_uint(j, "last_sample_ns", pr->last_sample_ns);
	} else {
		json_null(j, "first_sample_ns");
		json_null(j, "last_sample_ns");
	}
	json_uint(j, "frees_unknown", pr->frees_unknown);
	const struct fa_python *py = &pr->python;
	if (py->version) {
		char v[32];
		snprintf(v, sizeof(v), "%u.%u.%u", (unsigned)(py->version >> 24),
			 (unsigned)(py->version >> 16) & 0xff, (unsigned)(py->version >> 8) & 0xff);
		json_object_begin(j, "python");
		json_string(j, "version", v);
		json_string(j, "interpreter", py->path);
		json_int(j, "weight", py->weight);
		json_int(j, "mismatched_weight", py->mismatched);
		json_int(j, "trampoline_cut_weight", py->trampoline_cut);
		json_bool(j, "perf_trampolines", py->perf);
		json_uint(j, "walks", py->walks);
		json_uint(j, "faults", py->faults);
		json_object_end(j);
	} else {
		json_null(j, "python");
	}
	json_object_end(j);
}

void json_processes(struct json *j, const char *key, const struct profile *p)
{
	json_array_begin(j, key);
	for (size_t i = 0; i < p->nprocs; i++)
		json_process(j, &p->procs[i]);
	json_array_end(j);
}

void json_stack_frames(struct json *j, const char *key, const struct profile *p, uint32_t stack, size_t from,
		       size_t max)
{
	struct fa_frame fr[FD_MAX_FRAMES * 2];
	size_t n = profile_stack_frames(p, &p->stacks[stack], fr, FD_MAX_FRAMES * 2);
	if (n > FD_MAX_FRAMES * 2)
		n = FD_MAX_FRAMES * 2;
	if (n > from + max)
		n = from + max;
	json_array_begin(j, key);
	for (size_t i = from; i < n; i++) {
		const struct fa_func *fn = &p->funcs[fr[i].func];
		json_object_begin(j, NULL);
		json_string(j, "function", fn->name);
		json_string(j, "file", fn->file);
		json_uint(j, "line", fr[i].line);
		json_string(j, "module", fn->module != FA_NONE ? p->modules[fn->module].name : NULL);
		json_object_end(j);
	}
	json_array_end(j);
}

void json_profile_warnings(struct json *j, const struct profile *p)
{
	for (size_t i = 0; i < p->nwarnings; i++)
		json_string(j, NULL, p->warnings[i]);
}
