/* The writers of `fathom diff` and `fathom check` verdicts: text, Markdown,
 * JUnit XML, JSON, GitHub annotations and the step summary. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "fathom-dump.h"
#include "outfile.h"
#include "outputs.h"
#include "site.h"
#include "util.h"

int compare_format_parse(const char *s)
{
	if (!strcmp(s, "text"))
		return COMPARE_TEXT;
	if (!strcmp(s, "markdown") || !strcmp(s, "md"))
		return COMPARE_MARKDOWN;
	if (!strcmp(s, "junit") || !strcmp(s, "xml"))
		return COMPARE_JUNIT;
	if (!strcmp(s, "json"))
		return COMPARE_JSON;
	return -1;
}

static const char *status_word(enum compare_status s)
{
	switch (s) {
	case COMPARE_FAIL:
		return "FAIL";
	case COMPARE_IMPROVED:
		return "better";
	case COMPARE_SKIPPED:
		return "skipped";
	case COMPARE_OK:
		break;
	}
	return "ok";
}

static bool is_judged(const struct compare_item *it)
{
	return it->section == COMPARE_SEC_PROGRAM || it->section == COMPARE_SEC_FUNCTION ||
	       it->section == COMPARE_SEC_BUDGET;
}

static const char *limit_str(char *buf, const struct compare_item *it)
{
	if (isnan(it->limit))
		return "-";
	if (it->section == COMPARE_SEC_BUDGET)
		return compare_value_str(buf, it->unit, it->limit);
	if (!strcmp(it->metric, "cpu-functions"))
		snprintf(buf, 32, "+%.0f%% & z", it->limit * 100);
	else
		snprintf(buf, 32, "+%.0f%%", it->limit * 100);
	return buf;
}

/* The report's first line, as text or as a Markdown heading (md). */
static void headline(FILE *f, const struct compare_report *r, bool check, bool md)
{
	if (r->nfail)
		fprintf(f, md ? "### :x: fathom %s: %zu %s\n\n" : "fathom %s: FAIL, %zu %s\n\n", r->command,
			r->nfail,
			check ? (r->nfail == 1 ? "budget exceeded" : "budgets exceeded")
			      : (r->nfail == 1 ? "regression" : "regressions"));
	else if (r->unjudged > 0)
		fprintf(f,
			"%sfathom %s: no verdict, %.1f%% of a recording's CPU samples are in code that could "
			"not be symbolized%s\n\n",
			md ? "### :warning: " : "", r->command, 100 * r->unjudged, md ? "" : " (below)");
	else
		fprintf(f, md ? "### :white_check_mark: fathom %s: %s\n\n" : "fathom %s: ok, %s\n\n",
			r->command, check ? "all budgets hold" : "no regression");
}

/* A row of the table of budgets (check: budget, value, limit, verdict) or of
 * program metrics (diff: metric, base, new, change, limit, verdict), as its
 * cells; the buffers hold the figures. */
struct table_row {
	const char *cell[6];
	size_t n;
	char b[4][32];
};

/* The header row of the table. */
static void table_head(struct table_row *t, bool check)
{
	static const char *const budget[] = {"budget", "value", "limit", "verdict"};
	static const char *const metric[] = {"metric", "base", "new", "change", "limit", "verdict"};
	t->n = check ? 4 : 6;
	for (size_t i = 0; i < t->n; i++)
		t->cell[i] = check ? budget[i] : metric[i];
}

/* Item it's row of the table, with the verdict `verdict`; false when it has
 * none (a function, the function tests' summary, a section of its own). */
static bool table_item(struct table_row *t, const struct compare_item *it, const char *verdict)
{
	if (it->section == COMPARE_SEC_BUDGET) {
		const char *c[] = {it->name, compare_value_str(t->b[0], it->unit, it->value),
				   compare_value_str(t->b[1], it->unit, it->limit), verdict};
		t->n = 4;
		memcpy(t->cell, c, sizeof(c));
		return true;
	}
	if (it->section != COMPARE_SEC_PROGRAM || !strcmp(it->metric, "cpu-functions"))
		return false;
	const char *c[] = {it->name,
			   compare_value_str(t->b[0], it->unit, it->base),
			   compare_value_str(t->b[1], it->unit, it->value),
			   compare_change_str(t->b[2], it->change),
			   limit_str(t->b[3], it),
			   verdict};
	t->n = 6;
	memcpy(t->cell, c, sizeof(c));
	return true;
}

/* A row as text: the name in 20 columns, the figures right-aligned, the
 * verdict after two spaces. */
static void text_row(FILE *f, const struct table_row *t)
{
	static const int width[2][4] = {{14, 14}, {14, 14, 9, 10}};
	fprintf(f, "%-20s", t->cell[0]);
	for (size_t i = 1; i + 1 < t->n; i++)
		fprintf(f, " %*s", width[t->n == 6][i - 1], t->cell[i]);
	fprintf(f, "  %s\n", t->cell[t->n - 1]);
}

/* A row as a Markdown table row; the header also gets its rule, the figures
 * right-aligned. */
static void markdown_row(FILE *f, const struct table_row *t, bool head)
{
	for (size_t i = 0; i < t->n; i++)
		fprintf(f, "| %s ", t->cell[i]);
	fputs("|\n", f);
	if (head) {
		for (size_t i = 0; i < t->n; i++)
			fputs(i == 0 || i + 1 == t->n ? "|---" : "|---:", f);
		fputs("|\n", f);
	}
}

static void write_text(const struct compare_report *r, FILE *f)
{
	char b1[32], b2[32], b3[32], where[512];
	bool check = !strcmp(r->command, "check");
	headline(f, r, check, false);
	if (!check && r->tests)
		fprintf(f, "CPU samples: %s base, %s new; %zu function shares tested, z must exceed %.2f\n\n",
			fmt_count(b1, (int64_t)r->samples[0]), fmt_count(b2, (int64_t)r->samples[1]),
			r->tests, r->z_crit);
	struct table_row t;
	table_head(&t, check);
	text_row(f, &t);
	for (size_t i = 0; i < r->nitems; i++)
		if (table_item(&t, &r->items[i], status_word(r->items[i].status)))
			text_row(f, &t);
	bool head = false;
	for (size_t i = 0; i < r->nitems; i++) {
		const struct compare_item *it = &r->items[i];
		if (it->status != COMPARE_FAIL || !is_judged(it))
			continue;
		if (!head)
			fprintf(f, "\n%s:\n", check ? "Over budget" : "Regressions");
		head = true;
		fprintf(f, "  %s\n", it->message ? it->message : it->name);
	}
	for (size_t i = 0; i < r->nitems; i++) {
		const struct compare_item *it = &r->items[i];
		if (!strcmp(it->metric, "cpu-functions") || (it->status == COMPARE_SKIPPED && it->message))
			fprintf(f, "\n%s: %s\n", it->name, it->message);
	}
	for (int sec = COMPARE_SEC_GREW; sec <= COMPARE_SEC_SHRANK; sec++) {
		head = false;
		for (size_t i = 0; i < r->nitems; i++) {
			const struct compare_item *it = &r->items[i];
			if ((int)it->section != sec)
				continue;
			if (!head)
				fprintf(f,
					"\n%s (self CPU share; effect = change relative to the rest):\n"
					"  %8s %8s %8s %7s  %s\n",
					sec == COMPARE_SEC_GREW ? "Grew most" : "Shrank most", "base", "new",
					"effect", "z", "function");
			head = true;
			compare_func_where(where, sizeof(where), it->func, it->file, it->line);
			fprintf(f, "  %8s %8s %8s %7.1f  %s%s\n", compare_value_str(b1, it->unit, it->base),
				compare_value_str(b2, it->unit, it->value),
				compare_change_str(b3, it->change), it->z, where,
				it->status == COMPARE_FAIL ? "  <- regression" : "");
		}
	}
	if (r->nnotes) {
		fprintf(f, "\nNotes:\n");
		for (size_t i = 0; i < r->nnotes; i++)
			fprintf(f, "  %s\n", r->notes[i]);
	}
}

static void write_markdown(const struct compare_report *r, FILE *f)
{
	char b1[32], b2[32], b3[32], b4[32];
	bool check = !strcmp(r->command, "check");
	headline(f, r, check, true);
	struct table_row t;
	table_head(&t, check);
	markdown_row(f, &t, true);
	for (size_t i = 0; i < r->nitems; i++) {
		const struct compare_item *it = &r->items[i];
		if (table_item(&t, it, it->status == COMPARE_FAIL ? "**FAIL**" : status_word(it->status)))
			markdown_row(f, &t, false);
	}
	bool head = false;
	for (size_t i = 0; i < r->nitems; i++) {
		const struct compare_item *it = &r->items[i];
		if (it->status != COMPARE_FAIL || it->section != COMPARE_SEC_FUNCTION)
			continue;
		if (!head)
			fprintf(f, "\n**Regressions**\n\n| function | where | base | new | effect | z |\n"
				   "|---|---|---:|---:|---:|---:|\n");
		head = true;
		fputs("| ", f);
		md_write_escaped(f, it->name);
		fputs(" | ", f);
		if (it->file) {
			md_write_escaped(f, it->file);
			if (it->line)
				fprintf(f, ":%d", it->line);
		}
		fprintf(f, " | %s | %s | %s | %s |\n", compare_value_str(b1, it->unit, it->base),
			compare_value_str(b2, it->unit, it->value), compare_change_str(b3, it->change),
			isnan(it->z) ? "-" : (snprintf(b4, sizeof(b4), "%.1f", it->z), b4));
	}
	for (size_t i = 0; i < r->nitems; i++) {
		const struct compare_item *it = &r->items[i];
		if (!strcmp(it->metric, "cpu-functions") && it->message) {
			fputs("\n", f);
			md_write_escaped(f, it->message);
			fputs("\n", f);
		}
	}
	for (int sec = COMPARE_SEC_GREW; sec <= COMPARE_SEC_SHRANK; sec++) {
		head = false;
		for (size_t i = 0; i < r->nitems; i++) {
			const struct compare_item *it = &r->items[i];
			if ((int)it->section != sec)
				continue;
			if (!head)
				fprintf(f,
					"\n<details><summary>%s (self CPU share)</summary>\n\n"
					"| function | base | new | effect | z |\n|---|---:|---:|---:|---:|\n",
					sec == COMPARE_SEC_GREW ? "Grew most" : "Shrank most");
			head = true;
			fputs("| ", f);
			md_write_escaped(f, it->func);
			fprintf(f, " | %s | %s | %s | %.1f |\n", compare_value_str(b1, it->unit, it->base),
				compare_value_str(b2, it->unit, it->value),
				compare_change_str(b3, it->change), it->z);
		}
		if (head)
			fputs("\n</details>\n", f);
	}
	if (r->nnotes) {
		fputs("\n", f);
		for (size_t i = 0; i < r->nnotes; i++) {
			fputs("> ", f);
			md_write_escaped(f, r->notes[i]);
			fputs("\n", f);
		}
	}
	fputs("\n", f);
}

static void write_junit(const struct compare_report *r, FILE *f)
{
	size_t tests = 0, skipped = 0;
	for (size_t i = 0; i < r->nitems; i++)
		if (is_judged(&r->items[i])) {
			tests++;
			skipped += r->items[i].status == COMPARE_SKIPPED;
		}
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f,
		"<testsuites name=\"fathom\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\">\n",
		tests, r->nfail, skipped);
	fprintf(
	    f,
	    "  <testsuite name=\"fathom %s\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\">\n",
	    r->command, tests, r->nfail, skipped);
	char b1[32], b2[32], b3[32];
	for (size_t i = 0; i < r->nitems; i++) {
		const struct compare_item *it = &r->items[i];
		if (!is_judged(it))
			continue;
		fprintf(f, "    <testcase classname=\"fathom.%s\" name=\"", r->command);
		xml_write_escaped(f, it->name);
		fputs("\"", f);
		if (it->file) {
			fputs(" file=\"", f);
			xml_write_escaped(f, it->file);
			fputs("\"", f);
			if (it->line)
				fprintf(f, " line=\"%d\"", it->line);
		}
		fputs(">", f);
		if (it->status == COMPARE_FAIL) {
			fputs("<failure type=\"", f);
			xml_write_escaped(f, it->metric);
			fputs("\" message=\"", f);
			xml_write_escaped(f, it->message ? it->message : it->name);
			fputs("\">", f);
			if (it->section == COMPARE_SEC_BUDGET)
				fprintf(f, "value %s, limit %s", compare_value_str(b1, it->unit, it->value),
					compare_value_str(b2, it->unit, it->limit));
			else
				fprintf(f, "base %s, new %s, change %s",
					compare_value_str(b1, it->unit, it->base),
					compare_value_str(b2, it->unit, it->value),
					compare_change_str(b3, it->change));
			fputs("</failure>", f);
		} else if (it->status == COMPARE_SKIPPED) {
			fputs("<skipped message=\"", f);
			xml_write_escaped(f, it->message);
			fputs("\"/>", f);
		} else if (it->message) {
			fputs("<system-out>", f);
			xml_write_escaped(f, it->message);
			fputs("</system-out>", f);
		}
		fputs("</testcase>\n", f);
	}
	if (r->nnotes) {
		fputs("    <system-out>", f);
		for (size_t i = 0; i < r->nnotes; i++) {
			xml_write_escaped(f, r->notes[i]);
			fputs("\n", f);
		}
		fputs("</system-out>\n", f);
	}
	fputs("  </testsuite>\n</testsuites>\n", f);
}

static const char *section_name(enum compare_section s)
{
	static const char *const names[] = {"program", "function", "grew", "shrank", "budget"};
	return names[s];
}

static const char *unit_name(enum compare_unit u)
{
	static const char *const names[] = {"count", "bytes", "ns", "share"};
	return names[u];
}

static void json_value(struct json *j, const char *key, enum compare_unit u, double v)
{
	/* Exact figures stay integers; %g would round a large byte count. */
	if (u != COMPARE_SHARE && isfinite(v) && v == floor(v) && fabs(v) < 9e18)
		json_int(j, key, (int64_t)v);
	else
		json_double(j, key, v);
}

static void write_json(const struct compare_report *r, FILE *f)
{
	struct json j;
	json_init(&j, f, true);
	json_object_begin(&j, NULL);
	json_string(&j, "command", r->command);
	json_string(&j, "verdict", r->nfail ? "fail" : r->unjudged > 0 ? "incomplete" : "pass");
	json_uint(&j, "failures", r->nfail);
	if (!strcmp(r->command, "diff")) {
		json_uint(&j, "function_tests", r->tests);
		json_double(&j, "z_critical", r->z_crit);
		json_value(&j, "base_samples", COMPARE_COUNT, r->samples[0]);
		json_value(&j, "new_samples", COMPARE_COUNT, r->samples[1]);
	} else {
		json_value(&j, "samples", COMPARE_COUNT, r->samples[0]);
	}
	json_array_begin(&j, "items");
	for (size_t i = 0; i < r->nitems; i++) {
		const struct compare_item *it = &r->items[i];
		json_object_begin(&j, NULL);
		json_string(&j, "section", section_name(it->section));
		json_string(&j, "name", it->name);
		json_string(&j, "metric", it->metric);
		if (it->func) {
			json_string(&j, "function", it->func);
			json_string(&j, "file", it->file);
			if (it->line)
				json_int(&j, "line", it->line);
		}
		json_string(&j, "unit", unit_name(it->unit));
		if (it->section != COMPARE_SEC_BUDGET)
			json_value(&j, "base", it->unit, it->base);
		json_value(&j, "value", it->unit, it->value);
		if (it->section == COMPARE_SEC_BUDGET)
			json_value(&j, "limit", it->unit, it->limit);
		else
			json_double(&j, "threshold", it->limit);
		json_double(&j, "change", it->change);
		if (!isnan(it->z)) {
			json_double(&j, "z", it->z);
			json_double(&j, "p", it->p);
		}
		json_string(&j, "status", status_word(it->status));
		if (it->message)
			json_string(&j, "message", it->message);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_array_begin(&j, "notes");
	for (size_t i = 0; i < r->nnotes; i++)
		json_string(&j, NULL, r->notes[i]);
	json_array_end(&j);
	json_object_end(&j);
}

void compare_write(const struct compare_report *r, enum compare_format fmt_, FILE *f)
{
	switch (fmt_) {
	case COMPARE_MARKDOWN:
		write_markdown(r, f);
		break;
	case COMPARE_JUNIT:
		write_junit(r, f);
		break;
	case COMPARE_JSON:
		write_json(r, f);
		break;
	case COMPARE_TEXT:
		write_text(r, f);
		break;
	}
	compare_lines_write(r, fmt_, f); /* diff --lines */
}

void compare_write_annotations(const struct compare_report *r, FILE *f, const char *root)
{
	size_t rl = root ? strlen(root) : 0;
	while (rl > 1 && root[rl - 1] == '/')
		rl--;
	for (size_t i = 0; i < r->nitems; i++) {
		const struct compare_item *it = &r->items[i];
		if (it->status != COMPARE_FAIL || !is_judged(it))
			continue;
		fputs("::error ", f);
		if (it->file) {
			const char *file = it->file;
			if (rl && !strncmp(file, root, rl) && file[rl] == '/')
				file += rl + 1;
			fputs("file=", f);
			gh_write_escaped(f, file, true);
			if (it->line)
				fprintf(f, ",line=%d", it->line);
			fputs(",", f);
		}
		fputs("title=", f);
		char title[300];
		snprintf(title, sizeof(title), "fathom %s: %s", r->command, it->name);
		gh_write_escaped(f, title, true);
		fputs("::", f);
		gh_write_escaped(f, it->message ? it->message : it->name, false);
		fputs("\n", f);
	}
}

/* Appends the report to path (the CI step summary), which the runner made. */
static int append_file(const struct compare_report *r, enum compare_format fmt_, const char *path, char **err)
{
	FILE *f = fopen(path, "a");
	if (!f) {
		int e = errno;
		*err = str_fmt("%s: %s", path, strerror(e));
		return -e;
	}
	compare_write(r, fmt_, f);
	int bad = ferror(f);
	int e = errno;
	if (fclose(f) || bad) {
		e = bad ? e : errno;
		*err = str_fmt("writing %s: %s", path, strerror(e ? e : EIO));
		return -(e ? e : EIO);
	}
	return 0;
}

/* Writes -o PATH the way every command does (outfile.h). */
static int write_file(const struct compare_report *r, enum compare_format fmt_, const char *path, char **err)
{
	struct outfile o;
	int rc = outfile_open(&o, path, err);
	if (rc)
		return rc;
	compare_write(r, fmt_, o.f);
	if ((rc = outfile_close(&o, true)))
		*err = str_fmt("writing %s: %s", path, strerror(-rc));
	return rc;
}

int compare_publish(const struct compare_report *r, enum compare_format fmt_, const char *out_path,
		    const char *summary_path, bool annotate, const char *root, char **err)
{
	*err = NULL;
	int rc;
	if (out_path && strcmp(out_path, "-")) {
		if ((rc = write_file(r, fmt_, out_path, err)))
			return rc;
	} else {
		compare_write(r, fmt_, stdout);
	}
	if (annotate)
		compare_write_annotations(r, stdout, root);
	/* The step summary is Markdown whatever the chosen format: it is what
	 * GitHub shows on the run's page. */
	if (summary_path && *summary_path && (rc = append_file(r, COMPARE_MARKDOWN, summary_path, err)))
		return rc;
	return 0;
}
