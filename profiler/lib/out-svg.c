/* The interactive SVG flame graph: one self-contained file (inline script, no
 * network) with hover details, click to zoom, search with a matched total, and
 * a differential mode coloured by each frame's change in share. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "outputs.h"
#include "util.h"

#define XPAD 10
#define FRAME_H 16
#define TOP 66
#define BOTTOM 34
#define FONT 12

/* Deterministic warm colour from the name, as flamegraph.pl's "hot" palette,
 * so that a function keeps its colour from one graph to the next. */
static void warm_colour(const char *name, bool unknown, char *out, size_t len)
{
	uint64_t h = 1469598103934665603ull;
	for (const char *s = name; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	double v1 = (double)(h & 0xffff) / 65535, v2 = (double)((h >> 16) & 0xffff) / 65535,
	       v3 = (double)((h >> 32) & 0xffff) / 65535;
	if (unknown) {
		int g = 170 + (int)(40 * v1);
		snprintf(out, len, "rgb(%d,%d,%d)", g, g, g);
		return;
	}
	snprintf(out, len, "rgb(%d,%d,%d)", 205 + (int)(50 * v3), (int)(230 * v1), (int)(55 * v2));
}

/* White for no change, red for a growing share, blue for a shrinking one. */
static void diff_colour(double delta, double scale, char *out, size_t len)
{
	double i = fabs(delta) / scale;
	if (i > 1)
		i = 1;
	int fade = 255 - (int)(205 * i);
	if (delta > 0)
		snprintf(out, len, "rgb(255,%d,%d)", fade, fade);
	else
		snprintf(out, len, "rgb(%d,%d,255)", fade, fade);
}

static char *fmt_weight(char *buf, size_t len, int metric, int64_t w, unsigned hz)
{
	char a[32], b[32];
	switch (metric) {
	case FA_CPU:
		if (hz)
			snprintf(buf, len, "%s samples, %s", fmt_count(a, w),
				 fmt_duration(b, (uint64_t)((double)w * 1e9 / hz)));
		else
			snprintf(buf, len, "%s samples", fmt_count(a, w));
		break;
	case FA_ALLOC_BYTES:
	case FA_LEAKED_BYTES:
	case FA_PEAK_BYTES:
		snprintf(buf, len, "%s", fmt_bytes(a, w));
		break;
	case FA_LEAKED_BLOCKS:
		snprintf(buf, len, "%s blocks", fmt_count(a, w));
		break;
	case FA_WAIT:
		snprintf(buf, len, "%s waited", fmt_duration(a, (uint64_t)w));
		break;
	default:
		snprintf(buf, len, "%s calls", fmt_count(a, w));
		break;
	}
	return buf;
}

static bool unknown_func(const struct profile *p, uint32_t func)
{
	if (func >= p->nfuncs)
		return true;
	const struct fa_func *fn = &p->funcs[func];
	return !fn->file && (!fn->name || strstr(fn->name, "+0x") || fn->name[0] == '[');
}

/* The label that fits a frame w pixels wide; the script applies the same rule when zooming. */
static void put_label(FILE *f, const char *name, double w)
{
	int n = (int)((w - 6) / (FONT * 0.59));
	if (n < 3)
		return;
	size_t len = strlen(name);
	if (len <= (size_t)n) {
		xml_write_escaped(f, name);
		return;
	}
	/* Cut at a character boundary so that the label stays valid UTF-8. */
	size_t cut = (size_t)n - 2;
	while (cut > 0 && ((unsigned char)name[cut] & 0xc0) == 0x80)
		cut--;
	char *s = strndup(name, cut);
	if (s) {
		xml_write_escaped(f, s);
		fputs("..", f);
		free(s);
	}
}

struct svg_ctx {
	FILE *f;
	const struct profile *p;
	const struct flame_tree *t;
	const struct out_opts *o;
	bool diff;
	int64_t min_w;
	double scale_px; /* pixels per unit of weight */
	double diff_scale;
	int height;
	unsigned hz;
	size_t omitted, drawn;
	int64_t omitted_w;
};

static void draw_node(struct svg_ctx *c, uint32_t id, int64_t off)
{
	const struct flame_node *n = &c->t->nodes[id];
	const char *name = c->t->names[n->name];
	double x = XPAD + (double)off * c->scale_px, w = (double)n->total * c->scale_px;
	double y = c->height - BOTTOM - (double)(n->depth + 1) * FRAME_H;
	char fill[64], wb[96];
	if (c->diff) {
		double ns = (double)n->total / (double)c->t->total;
		double bs = c->t->base_total ? (double)n->base_total / (double)c->t->base_total : 0;
		diff_colour(ns - bs, c->diff_scale, fill, sizeof(fill));
	} else if (id == 0) {
		snprintf(fill, sizeof(fill), "rgb(210,210,210)");
	} else {
		warm_colour(name, unknown_func(c->p, n->func), fill, sizeof(fill));
	}
	fprintf(c->f, "<g data-o=\"%" PRId64 "\" data-v=\"%" PRId64 "\"><title>", off, n->total);
	xml_write_escaped(c->f, name);
	if (n->func != FA_NONE && n->func < c->p->nfuncs) {
		const struct fa_func *fn = &c->p->funcs[n->func];
		if (fn->file) {
			putc('\n', c->f);
			xml_write_escaped(c->f, fn->file);
			if (n->line)
				fprintf(c->f, ":%u", n->line);
		} else if (fn->module != FA_NONE && fn->module < c->p->nmodules) {
			fputs("\nin ", c->f);
			xml_write_escaped(
			    c->f, c->p->modules[fn->module].name ? c->p->modules[fn->module].name : "?");
		}
	}
	fprintf(c->f, "\n%s (%.2f%%)", fmt_weight(wb, sizeof(wb), c->o->metric, n->total, c->hz),
		100.0 * (double)n->total / (double)c->t->total);
	if (c->diff) {
		double ns = 100.0 * (double)n->total / (double)c->t->total;
		double bs = c->t->base_total ? 100.0 * (double)n->base_total / (double)c->t->base_total : 0;
		fprintf(c->f, "\nbase: %s (%.2f%%)\nchange: %+.2f points of share",
			fmt_weight(wb, sizeof(wb), c->o->metric, n->base_total, c->hz), bs, ns - bs);
	}
	fprintf(c->f,
		"</title><rect x=\"%.2f\" y=\"%.0f\" width=\"%.2f\" height=\"%d\" fill=\"%s\" rx=\"2\"/>", x,
		y, w, FRAME_H - 1, fill);
	fprintf(c->f, "<text x=\"%.2f\" y=\"%.0f\">", x + 3, y + FRAME_H - 5);
	put_label(c->f, name, w);
	fputs("</text></g>\n", c->f);
	c->drawn++;
	int64_t child_off = off;
	for (uint32_t ch = n->child; ch != FA_NONE; ch = c->t->nodes[ch].next) {
		const struct flame_node *cn = &c->t->nodes[ch];
		if (cn->total <= 0)
			continue;
		if (cn->total >= c->min_w)
			draw_node(c, ch, child_off);
		child_off += cn->total;
	}
}

/* Depth of the deepest frame that will be drawn, and what is left out: a
 * frame is drawn when it and all its ancestors are wide enough. Parents are
 * created before their children, so one pass in index order settles it. */
static int visible_depth(struct svg_ctx *c, uint32_t *depth)
{
	bool *vis = malloc(c->t->nnodes * sizeof(*vis));
	if (!vis)
		return -ENOMEM;
	uint32_t max = 0;
	vis[0] = true;
	for (size_t i = 1; i < c->t->nnodes; i++) {
		const struct flame_node *n = &c->t->nodes[i];
		vis[i] = false;
		if (n->total <= 0)
			continue;
		vis[i] = vis[n->parent] && n->total >= c->min_w;
		if (!vis[i]) {
			c->omitted++;
			if (vis[n->parent])
				c->omitted_w += n->total;
		} else if (n->depth > max) {
			max = n->depth;
		}
	}
	free(vis);
	*depth = max;
	return 0;
}

static double max_abs_delta(const struct flame_tree *t, int64_t min_w)
{
	double m = 0;
	for (size_t i = 1; i < t->nnodes; i++) {
		const struct flame_node *n = &t->nodes[i];
		if (n->total < min_w || n->total <= 0)
			continue;
		double d = fabs((double)n->total / (double)t->total -
				(t->base_total ? (double)n->base_total / (double)t->base_total : 0));
		if (d > m)
			m = d;
	}
	return m;
}

static const char svg_script[] =
    "\"use strict\";\n"
    "var W, XPAD, FS = 12, total, frames = [], details, matched, unzoombtn, term = null;\n"
    "function fit(f, w) {\n"
    "  var n = Math.floor((w - 6) / (FS * 0.59));\n"
    "  if (n < 3) return \"\";\n"
    "  return f.name.length <= n ? f.name : f.name.substring(0, n - 2) + \"..\";\n"
    "}\n"
    "function place(f, x, w) {\n"
    "  f.r.setAttribute(\"x\", x.toFixed(2)); f.r.setAttribute(\"width\", w.toFixed(2));\n"
    "  f.t.setAttribute(\"x\", (x + 3).toFixed(2)); f.t.textContent = fit(f, w);\n"
    "}\n"
    "function zoom(z) {\n"
    "  var ratio = (W - 2 * XPAD) / z.v;\n"
    "  unzoombtn.classList.remove(\"hide\");\n"
    "  frames.forEach(function (f) {\n"
    "    var show = false, anc = false;\n"
    "    if (f.y > z.y) anc = show = f.o <= z.o && f.o + f.v >= z.o + z.v;\n"
    "    else show = f.o >= z.o && f.o + f.v <= z.o + z.v;\n"
    "    f.g.style.display = show ? \"\" : \"none\";\n"
    "    f.g.style.opacity = anc ? \"0.6\" : \"\";\n"
    "    if (anc) place(f, XPAD, W - 2 * XPAD);\n"
    "    else if (show) place(f, XPAD + (f.o - z.o) * ratio, f.v * ratio);\n"
    "  });\n"
    "}\n"
    "function unzoom() {\n"
    "  unzoombtn.classList.add(\"hide\");\n"
    "  var k = (W - 2 * XPAD) / total;\n"
    "  frames.forEach(function (f) {\n"
    "    f.g.style.display = \"\"; f.g.style.opacity = \"\";\n"
    "    place(f, XPAD + f.o * k, f.v * k);\n"
    "  });\n"
    "}\n"
    "function search(t) {\n"
    "  var re = null;\n"
    "  try { re = new RegExp(t); } catch (e) { re = null; }\n"
    "  var hits = [];\n"
    "  frames.forEach(function (f) {\n"
    "    var hit = re ? re.test(f.name) : f.name.indexOf(t) >= 0;\n"
    "    f.r.setAttribute(\"fill\", hit ? \"rgb(230,0,230)\" : f.fill);\n"
    "    if (hit) hits.push(f);\n"
    "  });\n"
    "  /* A match inside another match is already counted in it. */\n"
    "  hits.sort(function (a, b) { return a.o - b.o || b.v - a.v; });\n"
    "  var sum = 0, end = -1;\n"
    "  hits.forEach(function (f) { if (f.o >= end) { sum += f.v; end = f.o + f.v; } });\n"
    "  term = t;\n"
    "  matched.textContent = \"Matched: \" + (100 * sum / total).toFixed(2) + \"% (\" + hits.length + \" "
    "frames)\";\n"
    "  matched.classList.remove(\"hide\");\n"
    "  return sum;\n"
    "}\n"
    "function reset_search() {\n"
    "  term = null;\n"
    "  frames.forEach(function (f) { f.r.setAttribute(\"fill\", f.fill); });\n"
    "  matched.classList.add(\"hide\");\n"
    "}\n"
    "function ask() {\n"
    "  var t = prompt(\"Search for (regular expression or text):\", term || \"\");\n"
    "  if (t) search(t); else if (t !== null) reset_search();\n"
    "}\n"
    "function init() {\n"
    "  var svg = document.documentElement;\n"
    "  W = +svg.getAttribute(\"width\"); XPAD = +svg.getAttribute(\"data-xpad\");\n"
    "  total = +svg.getAttribute(\"data-total\");\n"
    "  details = document.getElementById(\"details\");\n"
    "  matched = document.getElementById(\"matched\");\n"
    "  unzoombtn = document.getElementById(\"unzoom\");\n"
    "  var gs = document.getElementById(\"frames\").getElementsByTagName(\"g\");\n"
    "  for (var i = 0; i < gs.length; i++) {\n"
    "    var g = gs[i], r = g.getElementsByTagName(\"rect\")[0];\n"
    "    var info = g.getElementsByTagName(\"title\")[0].textContent;\n"
    "    var f = { g: g, r: r, t: g.getElementsByTagName(\"text\")[0], o: +g.getAttribute(\"data-o\"),\n"
    "      v: +g.getAttribute(\"data-v\"), y: +r.getAttribute(\"y\"), fill: r.getAttribute(\"fill\"),\n"
    "      name: info.split(\"\\n\")[0], info: info.replace(/\\n/g, \"  |  \") };\n"
    "    g.setAttribute(\"data-i\", i);\n"
    "    frames.push(f);\n"
    "  }\n"
    "  var fr = document.getElementById(\"frames\");\n"
    "  function frame_of(e) { var g = e.target.closest(\"g[data-i]\"); return g ? "
    "frames[+g.getAttribute(\"data-i\")] : null; }\n"
    "  fr.addEventListener(\"mouseover\", function (e) { var f = frame_of(e); if (f) details.textContent = "
    "f.info; });\n"
    "  fr.addEventListener(\"mouseout\", function () { details.textContent = \" \"; });\n"
    "  fr.addEventListener(\"click\", function (e) { var f = frame_of(e); if (f) { if (f.o === 0 && f.v === "
    "total && f.y === frames[0].y) unzoom(); else zoom(f); } });\n"
    "  unzoombtn.addEventListener(\"click\", unzoom);\n"
    "  document.getElementById(\"search\").addEventListener(\"click\", ask);\n"
    "  matched.addEventListener(\"click\", reset_search);\n"
    "  document.addEventListener(\"keydown\", function (e) {\n"
    "    if ((e.ctrlKey || e.metaKey) && e.key === \"f\") { e.preventDefault(); ask(); }\n"
    "    else if (e.key === \"Escape\") { reset_search(); unzoom(); }\n"
    "  });\n"
    "  var q = /[?&]s=([^&]*)/.exec(location.search || \"\");\n"
    "  if (q) search(decodeURIComponent(q[1]));\n"
    "}\n"
    "window.addEventListener(\"load\", init);\n";

static const char *basename_of(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;
	return s ? s + 1 : path ? path : "?";
}

int svg_write(FILE *f, const struct profile *p, const struct profile *base, const struct out_opts *o,
	      size_t *omitted)
{
	struct flame_tree t;
	int rc = out_flame_tree(&t, p, base, o);
	if (rc)
		return rc;
	int width = o->width > 100 ? o->width : 1200;
	double min_frac = o->min_width > 0 ? o->min_width : 0.001;
	struct svg_ctx c = {
	    .f = f,
	    .p = p,
	    .t = &t,
	    .o = o,
	    .diff = base != NULL,
	    .scale_px = (double)(width - 2 * XPAD) / (double)t.total,
	    .hz = p->nprocs ? p->procs[0].hz : 0,
	};
	c.min_w = (int64_t)ceil(min_frac * (double)t.total);
	if (c.min_w < 1)
		c.min_w = 1;
	uint32_t depth;
	if ((rc = visible_depth(&c, &depth))) {
		flame_free(&t);
		return rc;
	}
	c.height = TOP + (int)(depth + 1) * FRAME_H + BOTTOM;
	if (c.diff) {
		double m = max_abs_delta(&t, c.min_w);
		c.diff_scale = m > 0.02 ? m : 0.02;
	}

	char title[512], sub[512], wb[96];
	const char *exe = p->nprocs ? basename_of(p->procs[0].exe) : "?";
	if (o->title)
		snprintf(title, sizeof(title), "%s", o->title);
	else if (c.diff)
		snprintf(title, sizeof(title), "Differential flame graph: %s, %s", exe,
			 fa_metric_names[o->metric]);
	else
		snprintf(title, sizeof(title), "Flame graph: %s, %s", exe, fa_metric_names[o->metric]);
	int sl = snprintf(sub, sizeof(sub), "%s", fmt_weight(wb, sizeof(wb), o->metric, t.total, c.hz));
	if (o->tid && sl < (int)sizeof(sub))
		sl += snprintf(sub + sl, sizeof(sub) - (size_t)sl, ", thread %d", o->tid);
	if (c.diff && sl < (int)sizeof(sub))
		sl += snprintf(sub + sl, sizeof(sub) - (size_t)sl,
			       "; base %s; red grew, blue shrank (share of the total)",
			       fmt_weight(wb, sizeof(wb), o->metric, t.base_total, c.hz));
	if (c.omitted && sl < (int)sizeof(sub)) {
		/* Say what is missing, so that nobody hunts for a frame that was dropped. */
		snprintf(sub + sl, sizeof(sub) - (size_t)sl,
			 "; %zu frames narrower than %.2g%% omitted (stacks with %.2f%% of the weight are "
			 "cut short)",
			 c.omitted, 100 * min_frac, 100.0 * (double)c.omitted_w / (double)t.total);
	}

	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" data-xpad=\"%d\" data-total=\"%" PRId64 "\">\n",
		width, c.height, width, c.height, XPAD, t.total);
	fputs("<style>\n"
	      "text { font-family: Verdana, sans-serif; font-size: 12px; fill: rgb(0,0,0); }\n"
	      "#frames text { pointer-events: none; font-size: 12px; }\n"
	      "#frames g:hover rect { stroke: black; stroke-width: 0.5; cursor: pointer; }\n"
	      "#title { font-size: 17px; text-anchor: middle; }\n"
	      "#subtitle { fill: rgb(90,90,90); text-anchor: middle; }\n"
	      ".button { cursor: pointer; fill: rgb(0,0,160); }\n"
	      ".button:hover { text-decoration: underline; }\n"
	      ".hide { display: none; }\n"
	      "</style>\n",
	      f);
	fprintf(f, "<script type=\"text/ecmascript\"><![CDATA[\n%s]]></script>\n", svg_script);
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"rgb(248,248,240)\"/>\n", width,
		c.height);
	fprintf(f, "<text id=\"title\" x=\"%d\" y=\"24\">", width / 2);
	xml_write_escaped(f, title);
	fprintf(f, "</text>\n<text id=\"subtitle\" x=\"%d\" y=\"44\">", width / 2);
	xml_write_escaped(f, sub);
	fputs("</text>\n", f);
	fprintf(f, "<text id=\"unzoom\" class=\"button hide\" x=\"%d\" y=\"24\">Reset Zoom</text>\n", XPAD);
	fprintf(f,
		"<text id=\"search\" class=\"button\" x=\"%d\" y=\"24\" text-anchor=\"end\">Search</text>\n",
		width - XPAD);
	fprintf(f,
		"<text id=\"matched\" class=\"button hide\" x=\"%d\" y=\"%d\" text-anchor=\"end\"> </text>\n",
		width - XPAD, c.height - 12);
	fprintf(f, "<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n", XPAD, c.height - 12);
	fputs("<g id=\"frames\">\n", f);
	draw_node(&c, 0, 0);
	fputs("</g>\n</svg>\n", f);
	if (omitted)
		*omitted = c.omitted;
	flame_free(&t);
	return out_flush(f);
}
