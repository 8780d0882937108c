/* The interactive report: flame graph, hotspot table, memory timeline and diff,
 * drawn from the profile data that fathom view writes into the page. */
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const ROW = 18;          /* height of one frame row in CSS pixels */
  const MIN_W = 0.3;       /* frames narrower than this are not laid out */
  const CHAR_W = 6.6;      /* approximate width of one character of the frame font */
  const TABLE_ROWS = 500;  /* the hotspot table shows this many rows */

  /* ---------- numbers for people ---------- */

  function fmtCount(v) {
    return Math.round(v).toLocaleString('en-US');
  }
  function fmtBytes(v) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let u = 0;
    let x = v;
    while (Math.abs(x) >= 1024 && u < units.length - 1) { x /= 1024; u++; }
    if (u === 0) return Math.round(x) + ' B';
    const a = Math.abs(x);
    return x.toFixed(a < 10 ? 2 : a < 100 ? 1 : 0) + ' ' + units[u];
  }
  function fmtDuration(ns) {
    const a = Math.abs(ns);
    if (a >= 1e9) return (ns / 1e9).toFixed(2) + ' s';
    if (a >= 1e6) return (ns / 1e6).toFixed(1) + ' ms';
    if (a >= 1e3) return (ns / 1e3).toFixed(1) + ' us';
    return Math.round(ns) + ' ns';
  }
  function fmtValue(m, v) {
    if (!m) return fmtCount(v);
    if (m.unit === 'bytes') return fmtBytes(v);
    if (m.unit === 'samples')
      return m.ns_per_unit ? fmtDuration(v * m.ns_per_unit) : fmtCount(v) + ' samples';
    if (m.unit === 'ns') return fmtDuration(v);
    return fmtCount(v);
  }
  function fmtSigned(m, v) {
    return (v > 0 ? '+' : v < 0 ? '\u2212' : '\u00b1') + fmtValue(m, Math.abs(v));
  }
  function pct(v, of) {
    return of > 0 ? (100 * v / of).toFixed(v / of < 0.1 ? 2 : 1) + '%' : '\u2013';
  }
  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    if (attrs) for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  /* ---------- trees ---------- */

  /* Children lists (CSR) in name order and depths, for a tree whose parents
   * precede their children. cmp(a, b) orders the children of one node; only
   * siblings are compared, which is far less work than ranking every name. */
  function buildTree(parent, cmp) {
    const n = parent.length;
    const depth = new Int32Array(n);
    const childStart = new Int32Array(n + 1);
    for (let i = 1; i < n; i++) {
      childStart[parent[i] + 1]++;
      depth[i] = depth[parent[i]] + 1;
    }
    for (let i = 0; i < n; i++) childStart[i + 1] += childStart[i];
    const fill = childStart.slice(0, n);
    const childArr = new Int32Array(Math.max(n - 1, 0));
    for (let i = 1; i < n; i++) childArr[fill[parent[i]]++] = i;
    for (let i = 0; i < n; i++) {
      const a = childStart[i];
      const len = childStart[i + 1] - a;
      if (len === 2) {
        /* Most nodes of a deep profile have one or two children: no sort call. */
        if (cmp(childArr[a], childArr[a + 1]) > 0) {
          const x = childArr[a];
          childArr[a] = childArr[a + 1];
          childArr[a + 1] = x;
        }
      } else if (len > 2) {
        childArr.subarray(a, a + len).sort(cmp);
      }
    }
    let maxDepth = 0;
    for (let i = 0; i < n; i++) if (depth[i] > maxDepth) maxDepth = depth[i];
    return { n, parent, depth, childStart, childArr, maxDepth };
  }

  /* Adds each node's total to its parent's: parents precede children. */
  function totalsOf(self, parent) {
    const total = Float64Array.from(self);
    for (let i = total.length - 1; i > 0; i--) total[parent[i]] += total[i];
    return total;
  }

  /* Orders nodes by the names of their functions. */
  function byName(names, func) {
    return (a, b) => {
      const x = names[func[a]];
      const y = names[func[b]];
      return x < y ? -1 : x > y ? 1 : func[a] - func[b];
    };
  }

  function fail(msg) {
    throw new Error('fathom viewer: ' + msg);
  }

  /* One recording: its functions, call tree and weights. Node 0 is the root;
   * data node i is node i + 1 here. */
  class Profile {
    constructor(d) {
      this.d = d;
      const f = d.funcs || fail('no funcs');
      this.names = f.name;
      this.files = f.file;
      this.lines = f.line;
      this.mods = f.module;
      this.modules = d.modules || [];
      const nf = this.names.length;
      const up = d.nodes.up;
      const df = d.nodes.func;
      if (!up || !df || up.length !== df.length) fail('nodes.up and nodes.func are missing or differ in length');
      const n = up.length + 1;
      const parent = new Int32Array(n);
      const func = new Int32Array(n);
      parent[0] = -1;
      func[0] = -1;
      for (let i = 0; i < up.length; i++) {
        const p = i - up[i] + 1;
        if (!(p >= 0 && p <= i)) fail('node ' + i + ' has a bad parent');
        if (!(df[i] >= 0 && df[i] < nf)) fail('node ' + i + ' has a bad function');
        parent[i + 1] = p;
        func[i + 1] = df[i];
      }
      this.func = func;
      this.tree = buildTree(parent, byName(this.names, func));
      this.metrics = d.metrics || [];
      /* CPU by thread and slice of the run (timeline.js), null when none. */
      this.tl = window.FathomTimeline ? window.FathomTimeline.parse(d) : null;
      this.cache = new Map();
      this.tables = new Map();
    }
    metric(id) {
      return this.metrics.find((m) => m.id === id) || null;
    }
    /* Self and total weights of every node for a metric, optionally one
     * thread's CPU and the CPU of a range of slices [s0, s1) (timeline.js). */
    weights(id, thread, range) {
      const r = id === 'cpu' && range && this.tl ? range : null;
      const key = id + '/' + (id === 'cpu' ? thread : -1) + (r ? '/' + r[0] + '-' + r[1] : '');
      let w = this.cache.get(key);
      if (w) return w;
      const n = this.tree.n;
      let self = new Float64Array(n);
      /* Node numbers in the lists are steps from the previous one, from -1. */
      const bad = () => fail('weights of ' + id + ' name a node that does not exist');
      if (r) {
        self = window.FathomTimeline.rangeSelf(this.tl, n, r[0], r[1], thread);
      } else if (id === 'cpu' && thread >= 0) {
        const tc = this.d.thread_cpu || [];
        let node = -1;
        for (let i = 0; i + 2 < tc.length; i += 3) {
          node += tc[i];
          if (!(node >= -1 && node < n - 1)) bad();
          if (tc[i + 1] === thread) self[node + 1] += tc[i + 2];
        }
      } else {
        const pairs = (this.d.weights || {})[id] || [];
        let node = -1;
        for (let i = 0; i + 1 < pairs.length; i += 2) {
          node += pairs[i];
          if (!(node >= -1 && node < n - 1)) bad();
          self[node + 1] += pairs[i + 1];
        }
      }
      w = { self, total: totalsOf(self, this.tree.parent) };
      /* A few weightings are kept: a big profile's arrays are large. */
      if (this.cache.size >= 6) this.cache.delete(this.cache.keys().next().value);
      this.cache.set(key, w);
      return w;
    }
    label(i) {
      return i === 0 ? 'all' : this.names[this.func[i]];
    }
    moduleOf(f) {
      const m = this.mods[f];
      return m >= 0 && m < this.modules.length ? this.modules[m] : '';
    }
    locOf(f) {
      const file = this.files[f];
      if (!file) return '';
      return this.lines[f] ? file + ':' + this.lines[f] : file;
    }
    /* The hotspot table of a metric as fathom's analyzer counts it
     * (profiler/lib/aggregate.c, written by viewer-data.c): self and total
     * per function, rows = the functions with weight. CPU self is where a
     * stack ends, memory self at the allocation's site (past operator new
     * and the C++ library), a stack once in a total. */
    table(id) {
      let t = this.tables.get(id);
      if (t) return t;
      const nf = this.names.length;
      const list = (this.d.hotspots || {})[id] || [];
      const rows = [];
      const fself = new Float64Array(nf);
      const ftotal = new Float64Array(nf);
      let f = -1;
      for (let i = 0; i + 2 < list.length; i += 3) {
        f += list[i];
        if (!(f >= 0 && f < nf)) fail('the hotspots of ' + id + ' name a function that does not exist');
        rows.push(f);
        fself[f] = list[i + 1];
        ftotal[f] = list[i + 2];
      }
      t = { rows, fself, ftotal };
      this.tables.set(id, t);
      return t;
    }
    /* The analyzer's figures of a function's lines for a metric: a Map
     * line -> [self, total] (profiler/lib/viewer-lines.c, AGG_FRAME). */
    lineTable(id, f) {
      let byFunc = this.tables.get('lines/' + id);
      if (!byFunc) {
        byFunc = new Map();
        const list = (this.d.lines || {})[id] || [];
        let fn = -1;
        for (let i = 0; i + 3 < list.length; i += 4) {
          fn += list[i];
          let m = byFunc.get(fn);
          if (!m) byFunc.set(fn, (m = new Map()));
          m.set(list[i + 1], [list[i + 2], list[i + 3]]);
        }
        this.tables.set('lines/' + id, byFunc);
      }
      return byFunc.get(f) || new Map();
    }
    /* The code inlined into function f for a metric, as fathom lines notes
     * it: a Map call line -> [{func, line, v: [self, total]}], by inlined
     * function and line (profiler/lib/viewer-lines.c, AGG_INLINED). */
    inlinedTable(id, f) {
      let byCaller = this.tables.get('inlined/' + id);
      if (!byCaller) {
        byCaller = new Map();
        const list = (this.d.inlined || {})[id] || [];
        let caller = -1;
        for (let i = 0; i + 5 < list.length; i += 6) {
          caller += list[i];
          let m = byCaller.get(caller);
          if (!m) byCaller.set(caller, (m = new Map()));
          const at = list[i + 1];
          if (!m.has(at)) m.set(at, []);
          m.get(at).push({ func: list[i + 2], line: list[i + 3], v: [list[i + 4], list[i + 5]] });
        }
        this.tables.set('inlined/' + id, byCaller);
      }
      return byCaller.get(f) || new Map();
    }
    /* The embedded source of a recorded file: {path, note, text: Map line -> text}. */
    source(file) {
      if (!this.sources) {
        this.sources = new Map();
        for (const s of this.d.sources || []) {
          const text = new Map();
          const c = s.chunks || [];
          for (let i = 0; i + 1 < c.length; i += 2) {
            const lines = c[i + 1].split('\n');
            if (lines.length && lines[lines.length - 1] === '') lines.pop();
            lines.forEach((t, k) => text.set(c[i] + k, t.replace(/\r$/, '')));
          }
          this.sources.set(s.file, { path: s.path, note: s.note, text });
        }
      }
      return this.sources.get(file) || null;
    }
    /* The hotspot table under the current selection: the analyzer's, or
     * for one thread's CPU (a filter the data has no table for) the one
     * JavaScript aggregation of the viewer, threadTable(). */
    hotspots(id, thread, w, range) {
      if (id !== 'cpu' || (!(thread >= 0) && !(range && this.tl))) return this.table(id);
      if (!w.funcs) w.funcs = this.threadTable(w);
      return w.funcs;
    }
    /* Self and total per function from one thread's CPU weights of the
     * call tree: self where a stack ends, a function recursing on a path
     * counted once in its total. This is aggregate.c's rule for CPU (the
     * innermost known frame holds the self weight; the tree has a node per
     * known frame, inlined ones included), so on the unfiltered weights it
     * gives the analyzer's table exactly (tests/js/test-view-hotspots.mjs
     * checks it). It is not valid for memory, whose self weight belongs to
     * the allocation's site, not to the end of the stack: memory is not
     * split by thread, so it never needs it. */
    threadTable(w) {
      const t = this.tree;
      const nf = this.names.length;
      const fself = new Float64Array(nf);
      const ftotal = new Float64Array(nf);
      const onPath = new Int32Array(nf);
      const stk = new Int32Array(t.maxDepth + 2);
      const pos = new Int32Array(t.maxDepth + 2);
      let sp = 0;
      stk[0] = 0;
      pos[0] = t.childStart[0];
      while (sp >= 0) {
        const node = stk[sp];
        if (pos[sp] < t.childStart[node + 1]) {
          const c = t.childArr[pos[sp]++];
          if (w.total[c] === 0) continue;
          const f = this.func[c];
          if (onPath[f] === 0) ftotal[f] += w.total[c];
          onPath[f]++;
          fself[f] += w.self[c];
          sp++;
          stk[sp] = c;
          pos[sp] = t.childStart[c];
        } else {
          if (node !== 0) onPath[this.func[node]]--;
          sp--;
        }
      }
      const rows = [];
      for (let f = 0; f < nf; f++) if (ftotal[f] > 0 || fself[f] > 0) rows.push(f);
      return { rows, fself, ftotal };
    }
  }

  /* ---------- the flame graph canvas ---------- */

  function hashHue(s) {
    let h = 2166136261;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
    return h >>> 0;
  }

  /* Draws one tree as a flame graph or icicle; only frames wider than MIN_W
   * are laid out, so a redraw costs what is visible. */
  class FlameView {
    constructor(canvas, scroller, hooks) {
      this.canvas = canvas;
      this.scroller = scroller;
      this.ctx = canvas.getContext('2d');
      this.hooks = hooks;
      this.icicle = false;
      this.zoom = 0;
      this.src = null;
      this.rects = { node: new Int32Array(0), x: new Float64Array(0), w: new Float64Array(0), n: 0 };
      this.maxDepth = 0;
      canvas.addEventListener('mousemove', (e) => this.onMove(e));
      canvas.addEventListener('mouseleave', () => this.hooks.tooltip(null));
      canvas.addEventListener('click', (e) => this.onClick(e));
    }
    /* src: {tree, total, label(i), color(i), highlight(i)} */
    setSource(src) {
      this.src = src;
      if (this.zoom >= src.tree.n || !(src.total[this.zoom] > 0)) this.zoom = 0;
    }
    setZoom(node) {
      this.zoom = node;
      this.draw();
      if (this.hooks.zoomed) this.hooks.zoomed(node);
    }
    layout() {
      const src = this.src;
      const t = src.tree;
      const total = src.total;
      const cs = getComputedStyle(this.scroller);
      const pad = (parseFloat(cs.paddingLeft) || 0) + (parseFloat(cs.paddingRight) || 0);
      /* Leave room for a vertical scroll bar, so the width does not flip when one appears. */
      const W = Math.max(this.scroller.clientWidth - pad - 16, 200);
      this.width = W;
      let cap = 4096;
      let node = new Int32Array(cap);
      let xs = new Float64Array(cap);
      let ws = new Float64Array(cap);
      let n = 0;
      const push = (i, x, w) => {
        if (n === cap) {
          cap *= 2;
          const a = new Int32Array(cap); a.set(node); node = a;
          const b = new Float64Array(cap); b.set(xs); xs = b;
          const c = new Float64Array(cap); c.set(ws); ws = c;
        }
        node[n] = i; xs[n] = x; ws[n] = w; n++;
      };
      /* A block of elided children of node i is stored as node -1 - i. */
      const pushElided = (i, x, w) => push(-1 - i, x, w);
      /* The zoomed node's ancestors span the full width. */
      const chain = [];
      for (let a = t.parent[this.zoom]; a >= 0; a = t.parent[a]) chain.push(a);
      for (let k = chain.length - 1; k >= 0; k--) push(chain[k], 0, W);
      let maxDepth = t.depth[this.zoom];
      const zt = total[this.zoom];
      if (zt > 0) {
        const scale = W / zt;
        const stackN = [this.zoom];
        const stackX = [0];
        while (stackN.length) {
          const i = stackN.pop();
          const x = stackX.pop();
          push(i, x, total[i] * scale);
          if (t.depth[i] > maxDepth) maxDepth = t.depth[i];
          let cx = x;
          let narrow = 0;
          for (let k = t.childStart[i]; k < t.childStart[i + 1]; k++) {
            const c = t.childArr[k];
            const cw = total[c] * scale;
            if (cw >= MIN_W || (cw > 0 && src.keep && src.keep(c))) { stackN.push(c); stackX.push(cx); } else narrow += cw;
            cx += cw;
          }
          /* Children too narrow to draw one by one are drawn as one grey
           * block after the others, so that their weight stays visible. */
          if (narrow >= 1) {
            pushElided(i, cx - narrow, narrow);
            if (t.depth[i] + 1 > maxDepth) maxDepth = t.depth[i] + 1;
          }
        }
      } else {
        push(this.zoom, 0, W);
      }
      this.rects = { node, x: xs, w: ws, n };
      this.maxDepth = maxDepth;
    }
    yOf(depth) {
      return this.icicle ? depth * ROW : (this.maxDepth - depth) * ROW;
    }
    draw() {
      if (!this.src) return;
      this.layout();
      const src = this.src;
      const t = src.tree;
      const dpr = window.devicePixelRatio || 1;
      const H = Math.min((this.maxDepth + 1) * ROW, 32000);
      const cw = Math.round(this.width * dpr);
      const ch = Math.round(H * dpr);
      if (this.canvas.width !== cw || this.canvas.height !== ch || this.drawnIcicle !== this.icicle) {
        this.canvas.width = cw;
        this.canvas.height = ch;
        this.canvas.style.width = this.width + 'px';
        this.canvas.style.height = H + 'px';
        /* Keep the root in sight: at the bottom of a flame graph, the top of an icicle. */
        this.scroller.scrollTop = this.icicle ? 0 : this.scroller.scrollHeight;
        this.drawnIcicle = this.icicle;
      }
      const ctx = this.ctx;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, this.width, H);
      ctx.font = '11.5px ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace';
      ctx.textBaseline = 'middle';
      const zd = t.depth[this.zoom];
      const r = this.rects;
      let lit = 0;
      for (let k = 0; k < r.n; k++) {
        const i = r.node[k];
        const x = r.x[k];
        const w = r.w[k];
        if (i < 0) {
          ctx.fillStyle = '#c3c8ce';
          ctx.fillRect(x, this.yOf(t.depth[-1 - i] + 1), Math.max(w - 0.6, 0.4), ROW - 1);
          continue;
        }
        const d = t.depth[i];
        const y = this.yOf(d);
        const hl = src.highlight(i);
        if (hl) lit++;
        ctx.fillStyle = hl ? '#d41dd4' : d < zd ? '#d9dde2' : src.color(i);
        ctx.fillRect(x, y, Math.max(w - 0.6, hl ? 1 : 0.4), ROW - 1);
        if (w > 24) {
          const name = src.label(i);
          const fit = Math.floor((w - 6) / CHAR_W);
          const text = name.length > fit ? name.slice(0, Math.max(fit - 2, 0)) + '..' : name;
          if (text.length > 2 || text === name) {
            ctx.fillStyle = hl ? '#fff' : '#111';
            ctx.fillText(text, x + 3, y + ROW / 2);
          }
        }
      }
      this.drawnHighlighted = lit;
    }
    hit(e) {
      const b = this.canvas.getBoundingClientRect();
      const x = e.clientX - b.left;
      const y = e.clientY - b.top;
      const row = Math.floor(y / ROW);
      const depth = this.icicle ? row : this.maxDepth - row;
      const t = this.src.tree;
      const r = this.rects;
      for (let k = 0; k < r.n; k++) {
        const i = r.node[k];
        const d = i < 0 ? t.depth[-1 - i] + 1 : t.depth[i];
        if (d === depth && x >= r.x[k] && x < r.x[k] + r.w[k]) return i < 0 ? -2 - k : i;
      }
      return -1;
    }
    onMove(e) {
      if (!this.src) return;
      const i = this.hit(e);
      if (i < -1) {
        const k = -2 - i;
        this.hooks.tooltip({ elided: -1 - this.rects.node[k], width: this.rects.w[k], view: this, x: e.clientX, y: e.clientY });
        return;
      }
      this.hooks.tooltip(i < 0 ? null : { node: i, view: this, x: e.clientX, y: e.clientY });
    }
    onClick(e) {
      if (!this.src) return;
      let i = this.hit(e);
      if (i < -1) i = -1 - this.rects.node[-2 - i]; /* a grey block zooms to its parent */
      if (i < 0) return;
      this.setZoom(i === this.zoom && i !== 0 ? this.src.tree.parent[i] : i);
    }
    /* Page coordinates of the widest laid-out frame labelled `name`, for tests. */
    locate(name) {
      const r = this.rects;
      let best = -1;
      for (let k = 0; k < r.n; k++)
        if (r.node[k] >= 0 && this.src.label(r.node[k]) === name && (best < 0 || r.w[k] > r.w[best])) best = k;
      if (best < 0) return null;
      const d = this.src.tree.depth[r.node[best]];
      /* Scroll the frame into sight first, so that a click there reaches it. */
      const sc = this.scroller;
      const y = this.yOf(d);
      if (y < sc.scrollTop || y + ROW > sc.scrollTop + sc.clientHeight) sc.scrollTop = y - sc.clientHeight / 2;
      sc.scrollIntoView({ block: 'nearest' });
      const b = this.canvas.getBoundingClientRect();
      return { x: b.left + r.x[best] + r.w[best] / 2, y: b.top + y + ROW / 2, width: r.w[best] };
    }
  }

  /* ---------- the application ---------- */

  const stats = { scriptStartMs: 0, parseMs: 0, buildMs: 0, drawMs: 0, firstPaintMs: 0, readyMs: 0 };
  const api = { ready: false, stats };
  window.fathomViewer = api;

  let data;
  let profiles;
  /* The tables open on what a user looks for first: the functions that cost
   * the most themselves (by total, _start and main would lead), and the
   * biggest regressions (new minus base, largest growth first). */
  const state = { prof: 0, metric: 'cpu', thread: -1, range: null, search: '', focus: -1, srcFunc: -1, sortKey: 'self', sortDir: -1,
                  diffKey: 'delta', diffDir: -1, tab: 'hotspots' };
  let flame;
  let diffFlame;
  let diff = null;
  let cur = null;        /* the selected profile's weights */
  let match = null;      /* Uint8Array per function: matches the search or the focus */
  let matchTree = null;  /* Uint8Array per node: its subtree holds a match */

  function P() {
    return profiles[state.prof];
  }
  function curMetric() {
    return P().metric(state.metric) || metricUnion().find((m) => m.id === state.metric) || null;
  }
  function metricUnion() {
    const seen = new Map();
    for (const p of profiles) for (const m of p.metrics) if (!seen.has(m.id)) seen.set(m.id, m);
    return [...seen.values()];
  }

  function searchMatcher(q) {
    if (!q) return null;
    const m = /^\/(.+)\/([a-z]*)$/.exec(q);
    if (m) {
      try {
        const re = new RegExp(m[1], m[2].includes('i') ? 'i' : '');
        return (s) => re.test(s);
      } catch (err) {
        /* An unfinished regex is searched for as text. */
      }
    }
    const low = q.toLowerCase();
    return (s) => s.toLowerCase().includes(low);
  }

  function updateMatch() {
    setMatch();
    matchTree = subtreeMatches();
  }

  function setMatch() {
    const p = P();
    const nf = p.names.length;
    match = null;
    if (state.focus >= 0) {
      match = new Uint8Array(nf);
      match[state.focus] = 1;
      return;
    }
    const test = searchMatcher(state.search);
    if (!test) return;
    match = new Uint8Array(nf);
    for (let f = 0; f < nf; f++) if (test(p.names[f])) match[f] = 1;
  }

  /* Marks the nodes whose subtree holds a match, so that the layout keeps
   * matching frames that are too narrow to draw otherwise. */
  function subtreeMatches() {
    if (!match) return null;
    const p = P();
    const t = p.tree;
    const hm = new Uint8Array(t.n);
    for (let i = t.n - 1; i > 0; i--) {
      if (match[p.func[i]]) hm[i] = 1;
      if (hm[i]) hm[t.parent[i]] = 1;
    }
    return hm;
  }

  /* Counts matching frames under the zoomed node and their total, each
   * matching path counted once. */
  function searchSummary() {
    const st = $('search-status');
    if (!match) {
      st.textContent = '';
      st.dataset.matches = '0';
      st.dataset.total = '0';
      return;
    }
    const p = P();
    const t = p.tree;
    const total = cur.total;
    const root = flame.zoom;
    let frames = 0;
    let sum = 0;
    const stk = [root];
    const under = [0];
    while (stk.length) {
      const i = stk.pop();
      let u = under.pop();
      if (i !== 0 && match[p.func[i]] && total[i] > 0) {
        frames++;
        if (!u) sum += total[i];
        u = 1;
      }
      for (let k = t.childStart[i]; k < t.childStart[i + 1]; k++) {
        const c = t.childArr[k];
        if (total[c] > 0) { stk.push(c); under.push(u); }
      }
    }
    const m = curMetric();
    const what = state.focus >= 0 ? p.names[state.focus] : state.search;
    st.textContent = frames + (frames === 1 ? ' frame matches ' : ' frames match ') + JSON.stringify(what) +
      ': ' + fmtValue(m, sum) + ' (' + pct(sum, total[root]) + ')';
    st.dataset.matches = String(frames);
    st.dataset.total = String(sum);
  }

  function flameSource() {
    const p = P();
    const func = p.func;
    const mods = p.mods;
    const modules = p.modules;
    return {
      tree: p.tree,
      total: cur.total,
      label: (i) => p.label(i),
      highlight: (i) => match !== null && i !== 0 && match[func[i]] === 1,
      keep: (i) => matchTree !== null && matchTree[i] === 1,
      color: (i) => {
        const f = func[i];
        if (f < 0) return '#c8ccd2';
        const h = hashHue(p.names[f]);
        const m = mods[f];
        const sys = m >= 0 && /^(libc|libm|libpthread|ld-linux|libstdc\+\+|libgcc|libdl|librt|libfathom)/.test(modules[m] || '');
        if (sys) return 'hsl(' + (200 + (h % 30)) + ',35%,' + (72 + ((h >> 8) % 10)) + '%)';
        return 'hsl(' + (8 + (h % 42)) + ',' + (78 + ((h >> 8) % 18)) + '%,' + (58 + ((h >> 16) % 12)) + '%)';
      },
    };
  }

  function zoomLabel() {
    const p = P();
    const m = curMetric();
    const z = flame.zoom;
    const root = cur.total[0];
    const zl = $('zoom-label');
    const name = p.label(z);
    zl.textContent = (z === 0 ? 'all' : name) + ' \u2014 ' + fmtValue(m, cur.total[z]) + ' (' + pct(cur.total[z], root) + ')' +
      (z === 0 ? '' : '  \u00b7  click the root or press Esc to zoom out');
    zl.dataset.node = String(z);
    zl.dataset.name = name;
    zl.dataset.total = String(cur.total[z]);
  }

  function threadNote() {
    const note = $('thread-note');
    const tsel = $('thread');
    tsel.disabled = state.metric !== 'cpu';
    if (state.metric !== 'cpu' && state.range)
      note.textContent = (state.metric === 'wait' ? 'waiting' : 'memory weights') +
        ' not kept in time here; showing the whole run (the range filters CPU)';
    else if (state.metric !== 'cpu' && state.thread >= 0)
      note.textContent = (state.metric === 'wait' ? 'waiting' : 'memory weights') +
        ' not split by thread here; showing all threads';
    else if (!(cur.total[0] > 0))
      note.textContent = 'no ' + (curMetric() ? curMetric().label : state.metric) + ' data in this selection';
    else note.textContent = '';
  }

  function renderFlame() {
    const p = P();
    cur = p.weights(state.metric, state.thread, state.range);
    flame.setSource(flameSource());
    flame.draw();
    zoomLabel();
    searchSummary();
    threadNote();
  }

  /* ---------- hotspot table ---------- */

  function renderTable() {
    const p = P();
    const m = curMetric();
    const { rows: fns, fself, ftotal } = p.hotspots(state.metric, state.thread, cur, state.range);
    const all = cur.total[0];
    const rows = fns.slice();
    const key = state.sortKey;
    const dir = state.sortDir;
    const val = (f) => {
      switch (key) {
        case 'name': return p.names[f];
        case 'self': case 'selfPct': return fself[f];
        case 'total': case 'totalPct': return ftotal[f];
        case 'loc': return p.locOf(f);
        case 'module': return p.moduleOf(f);
      }
      return 0;
    };
    const numeric = key !== 'name' && key !== 'loc' && key !== 'module';
    let shown = rows;
    if (numeric && rows.length > 4 * TABLE_ROWS) {
      /* Only the rows that can make the first TABLE_ROWS are sorted with the
       * comparator: the cut-off comes from a native sort of the keys. */
      const keys = new Float64Array(rows.length);
      for (let k = 0; k < rows.length; k++) keys[k] = dir * val(rows[k]);
      const cut = Float64Array.from(keys).sort()[TABLE_ROWS - 1];
      shown = rows.filter((f, k) => keys[k] <= cut);
    }
    shown.sort((a, b) => {
      const va = val(a);
      const vb = val(b);
      if (va < vb) return -dir;
      if (va > vb) return dir;
      return ftotal[b] - ftotal[a] || a - b;
    });
    const tb = $('hotspots').tBodies[0];
    const frag = document.createDocumentFragment();
    for (const f of shown.slice(0, TABLE_ROWS)) {
      const tr = el('tr', { 'data-func': f });
      if (f === state.focus) tr.className = 'focused';
      tr.append(el('td', { class: 'text name', title: p.names[f] }, p.names[f]),
        el('td', { 'data-v': fself[f] }, fmtValue(m, fself[f])), el('td', { 'data-v': fself[f] }, pct(fself[f], all)),
        el('td', { 'data-v': ftotal[f] }, fmtValue(m, ftotal[f])), el('td', { 'data-v': ftotal[f] }, pct(ftotal[f], all)),
        el('td', { class: 'text' }, p.locOf(f)), el('td', { class: 'text' }, p.moduleOf(f)));
      frag.append(tr);
    }
    tb.replaceChildren(frag);
    $('table-note').textContent = rows.length > TABLE_ROWS
      ? 'showing ' + TABLE_ROWS + ' of ' + rows.length + ' functions' : rows.length + ' functions';
    for (const th of $('hotspots').tHead.rows[0].cells) {
      th.classList.toggle('sorted', th.dataset.key === key);
      th.classList.toggle('desc', th.dataset.key === key && dir < 0);
      th.classList.toggle('asc', th.dataset.key === key && dir > 0);
    }
  }

  /* Highlights a function and zooms to its heaviest node. */
  function focusFunc(f) {
    const p = P();
    state.focus = f;
    state.search = '';
    $('search').value = '';
    updateMatch();
    let best = 0;
    let bw = 0;
    for (let i = 1; i < p.tree.n; i++)
      if (p.func[i] === f && cur.total[i] > bw) { best = i; bw = cur.total[i]; }
    flame.zoom = best;
    renderFlame();
    renderTable();
  }

  /* ---------- source ---------- */

  /* The source of the function state.srcFunc with its lines' figures: CPU
   * self and total (shares and time), allocation calls, bytes, bytes live at the heap's peak
   * and leaked bytes (what the line allocated, itself or through its calls,
   * as fathom lines shows; as there, a column that is zero on all of the
   * function's lines and the code inlined into it is left out), and a heat
   * bar of the selected weight. */
  function renderSource() {
    const p = P();
    const f = state.srcFunc;
    const head = $('source').tHead.rows[0];
    const body = $('source').tBodies[0];
    body.replaceChildren();
    head.replaceChildren();
    if (!(f >= 0)) {
      $('source-title').textContent = 'Click a function in the flame graph or the hotspot table to see its source.';
      $('source-note').textContent = '';
      return;
    }
    const file = p.files[f];
    $('source-title').textContent = p.names[f] + (file ? ' \u2014 ' + file : '');
    const cols = [];
    const kinds = [['cpu', 0, 'Self %', true], ['cpu', 0, 'Self'], ['cpu', 1, 'Total %', true], ['cpu', 1, 'Total'],
      ['alloc-calls', 1, 'Allocs'], ['alloc-bytes', 1, 'Bytes'], ['peak-bytes', 1, 'At peak'], ['leaked-bytes', 1, 'Leaked']];
    for (const [id, k, label, share] of kinds) {
      const m = p.metric(id);
      if (!m || !(m.total > 0)) continue;
      let any = false;
      for (const v of p.lineTable(id, f).values()) any = any || v[k] !== 0;
      for (const list of p.inlinedTable(id, f).values()) for (const r of list) any = any || r.v[k] !== 0;
      if (any) cols.push({ m, id, k, label, share });
    }
    const tabs = new Map(cols.map((c) => [c.id, p.lineTable(c.id, f)]));
    const heatTab = p.lineTable(state.metric, f);
    /* The heat of a line is its total (itself and its calls), as
     * line_profiler's time per line. */
    const heatK = 1;
    const lines = new Set();
    for (const t of [...tabs.values(), heatTab]) for (const l of t.keys()) lines.add(l);
    const src = file ? p.source(file) : null;
    let note;
    if (!file) note = 'no source file is known for this function';
    else if (!p.d.sources) note = 'the sources were left out (fathom view --no-source)';
    else if (!src) note = 'no line of this file has figures';
    else note = src.note || (src.text.size ? '' : 'no source text embedded');
    if (p.d.sources_note) note += (note ? '; ' : '') + p.d.sources_note;
    $('source-note').textContent = note;
    head.append(el('th', null, 'Line'), ...cols.map((c) => el('th', { 'data-key': c.id + (c.k ? '/total' : '/self') + (c.share ? '%' : ''),
      title: c.m.label + (c.k ? ' (total: the line and what it called)' : ' (self: the line itself)') +
        (c.share ? ', as a share of the whole recording\'s' : '') }, c.label)),
      el('th', { class: 'text' }, ''), el('th', { class: 'text' }, 'Source'));
    if (!lines.size) {
      body.append(el('tr', { class: 'gap' }, el('td', { colspan: cols.length + 3 }, 'no figures for this function\'s lines')));
      return;
    }
    /* The lines shown: from the declaration (or first line with figures)
     * to the last line with figures, with the text there is. */
    const sorted = [...lines].sort((a, b) => a - b);
    let lo = sorted[0];
    const decl = p.lines[f];
    if (decl > 0 && decl < lo && lo - decl < 2000) lo = decl;
    const hi = sorted[sorted.length - 1] + (src ? 3 : 0);
    let maxHeat = 0;
    for (const v of heatTab.values()) maxHeat = Math.max(maxHeat, v[heatK]);
    const heatM = curMetric();
    const frag = document.createDocumentFragment();
    let skipped = 0;
    for (let l = lo; l <= hi; l++) {
      const has = lines.has(l);
      const text = src ? src.text.get(l) : undefined;
      if (!has && text === undefined) { skipped++; continue; }
      if (skipped) {
        frag.append(el('tr', { class: 'gap' }, el('td', { colspan: cols.length + 3 }, '\u2026 ' + skipped + ' lines')));
        skipped = 0;
      }
      const tr = el('tr', { 'data-line': l, class: has ? 'hot' : 'cold' });
      tr.append(el('td', { class: 'ln' }, String(l)));
      for (const c of cols) {
        const v = (tabs.get(c.id).get(l) || [0, 0])[c.k];
        tr.append(cell(c, v));
      }
      const hv = (heatTab.get(l) || [0, 0])[heatK];
      const bar = el('td', { class: 'heat', 'data-v': hv, title: hv ? fmtValue(heatM, hv) : '' });
      if (hv > 0 && maxHeat > 0) {
        const b = el('div', { class: 'bar' });
        b.style.width = Math.max(2, Math.round(100 * hv / maxHeat)) + '%';
        bar.append(b);
      }
      tr.append(bar, el('td', { class: 'code' }, text === undefined ? '' : text));
      frag.append(tr);
      inlinedRows(frag, p, f, l, cols, heatM, maxHeat);
    }
    body.append(frag);
  }

  /* A figure of the Source tab: the value, or its share of the metric's
   * total (fathom lines' self% and total%); blank when 0. */
  function cell(c, v) {
    return el('td', { 'data-v': v }, v ? (c.share ? pct(v, c.m.total) : fmtValue(c.m, v)) : '');
  }

  /* The notes under line l of function f: the code inlined there, a
   * heading per inlined function, then each of its lines with its figures
   * and text (a '+' before the line number), as fathom lines prints them. */
  function inlinedRows(frag, p, f, l, cols, heatM, maxHeat) {
    const per = new Map(cols.map((c) => [c.id, p.inlinedTable(c.id, f).get(l) || []]));
    const heat = p.inlinedTable(state.metric, f).get(l) || [];
    const keys = new Map();
    for (const list of [...per.values(), heat])
      for (const r of list) keys.set(r.func + ':' + r.line, r);
    if (!keys.size) return;
    const rows = [...keys.values()].sort((a, b) => (a.func - b.func) || (a.line - b.line));
    const find = (list, r) => list.find((x) => x.func === r.func && x.line === r.line);
    let callee = -1;
    for (const r of rows) {
      const file = p.files[r.func];
      if (r.func !== callee) {
        callee = r.func;
        frag.append(el('tr', { class: 'inl-head' }, el('td', { colspan: cols.length + 3 },
          '+ inlined ' + p.names[r.func] + ' (' + (file ? file.replace(/.*\//, '') : 'no file') + ')')));
      }
      const src = file ? p.source(file) : null;
      const text = src ? src.text.get(r.line) : undefined;
      const tr = el('tr', { class: 'inl', 'data-inlined-at': l, 'data-inlined-func': p.names[r.func], 'data-inlined-line': r.line });
      tr.append(el('td', { class: 'ln' }, '+' + r.line));
      for (const c of cols) {
        const x = find(per.get(c.id), r);
        tr.append(cell(c, x ? x.v[c.k] : 0));
      }
      const h = find(heat, r);
      const hv = h ? h.v[1] : 0;
      const bar = el('td', { class: 'heat', 'data-v': hv, title: hv ? fmtValue(heatM, hv) : '' });
      if (hv > 0 && maxHeat > 0) {
        const b = el('div', { class: 'bar' });
        b.style.width = Math.max(2, Math.round(100 * Math.min(hv, maxHeat) / maxHeat)) + '%';
        bar.append(b);
      }
      tr.append(bar, el('td', { class: 'code' }, text === undefined ? '' : text));
      frag.append(tr);
    }
  }

  function showSource(f) {
    state.srcFunc = f;
    if (state.tab === 'source') renderSource();
    else setTab('source');
  }

  /* ---------- memory timeline ---------- */

  function renderTimeline() {
    const p = P();
    const tl = p.d.timeline || [];
    const mem = p.d.mem || {};
    const canvas = $('timeline');
    const wrap = $('timeline-wrap');
    const sel = $('timeline-proc');
    const W = Math.max(wrap.clientWidth, 300);
    const H = 240;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(W * dpr);
    canvas.height = Math.round(H * dpr);
    canvas.style.width = W + 'px';
    canvas.style.height = H + 'px';
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    ctx.font = '11px system-ui, sans-serif';
    const peakNote = $('timeline-peak');
    if (!tl.length) {
      ctx.fillStyle = '#5d6875';
      ctx.fillText('This recording has no memory timeline (no ticks were recorded).', 10, 24);
      peakNote.textContent = mem.peak_bytes ? 'heap peak ' + fmtBytes(mem.peak_bytes) : '';
      return;
    }
    let si = Number(sel.value);
    if (!(si >= 0 && si < tl.length)) si = 0;
    const s = tl[si];
    const L = 64, R = 12, T = 10, B = 26;
    const pw = W - L - R;
    const ph = H - T - B;
    let tmax = 0;
    let vmax = 0;
    for (let k = 0; k < s.t.length; k++) {
      tmax = Math.max(tmax, s.t[k]);
      vmax = Math.max(vmax, s.heap[k], s.rss[k]);
    }
    const isPeakProc = mem.peak_proc === s.proc && mem.peak_bytes > 0;
    if (isPeakProc) {
      tmax = Math.max(tmax, mem.peak_time_ns);
      vmax = Math.max(vmax, mem.peak_bytes);
    }
    if (tmax <= 0) tmax = 1;
    if (vmax <= 0) vmax = 1;
    const X = (t) => L + (t / tmax) * pw;
    const Y = (v) => T + ph - (v / vmax) * ph;
    /* Axes and grid. */
    ctx.strokeStyle = '#e3e7eb';
    ctx.fillStyle = '#5d6875';
    ctx.lineWidth = 1;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (let g = 0; g <= 4; g++) {
      const v = (vmax * g) / 4;
      ctx.beginPath(); ctx.moveTo(L, Y(v) + 0.5); ctx.lineTo(L + pw, Y(v) + 0.5); ctx.stroke();
      ctx.fillText(fmtBytes(v), L - 6, Y(v));
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (let g = 0; g <= 5; g++) {
      const t = (tmax * g) / 5;
      ctx.fillText(fmtDuration(t), Math.min(Math.max(X(t), L + 20), L + pw - 20), T + ph + 6);
    }
    /* Lines, reduced to at most two points per pixel column. */
    const line = (vals, color, width) => {
      ctx.strokeStyle = color;
      ctx.lineWidth = width;
      ctx.beginPath();
      let col = -1, lo = 0, hi = 0, first = true;
      const flush = () => {
        if (col < 0) return;
        if (first) { ctx.moveTo(col, Y(lo)); first = false; } else ctx.lineTo(col, Y(lo));
        if (hi !== lo) ctx.lineTo(col, Y(hi));
      };
      for (let k = 0; k < s.t.length; k++) {
        const c = Math.round(X(s.t[k]));
        const v = vals[k];
        if (c !== col) { flush(); col = c; lo = hi = v; } else { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      }
      flush();
      ctx.stroke();
    };
    line(s.rss, '#9aa4ae', 1.5);
    line(s.heap, '#2f6fd6', 2);
    if (isPeakProc) {
      const px = X(mem.peak_time_ns);
      const py = Y(mem.peak_bytes);
      ctx.strokeStyle = '#d62f2f';
      ctx.lineWidth = 1;
      ctx.setLineDash([4, 3]);
      ctx.beginPath(); ctx.moveTo(px + 0.5, T); ctx.lineTo(px + 0.5, T + ph); ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = '#d62f2f';
      ctx.beginPath(); ctx.arc(px, py, 4, 0, 2 * Math.PI); ctx.fill();
      const label = 'peak ' + fmtBytes(mem.peak_bytes) + ' at ' + fmtDuration(mem.peak_time_ns);
      ctx.textAlign = px > L + pw / 2 ? 'right' : 'left';
      ctx.textBaseline = 'bottom';
      ctx.fillText(label, px + (px > L + pw / 2 ? -8 : 8), Math.max(py - 4, T + 12));
      peakNote.textContent = 'heap peak ' + fmtBytes(mem.peak_bytes) + ' at ' + fmtDuration(mem.peak_time_ns) +
        ' in pid ' + p.d.procs[s.proc].pid;
    } else {
      peakNote.textContent = mem.peak_bytes > 0 ? 'heap peak ' + fmtBytes(mem.peak_bytes) + ' (in another process)' : 'no heap data';
    }
    canvas.dataset.points = String(s.t.length);
    canvas.dataset.peakX = isPeakProc ? String(X(mem.peak_time_ns)) : '';
  }

  function fillTimelineProcs() {
    const p = P();
    const tl = p.d.timeline || [];
    const sel = $('timeline-proc');
    sel.replaceChildren();
    tl.forEach((s, k) => {
      const pr = p.d.procs[s.proc] || {};
      sel.append(el('option', { value: k }, 'pid ' + pr.pid + ' ' + (pr.exe || '')));
    });
    const peak = tl.findIndex((s) => s.proc === (p.d.mem || {}).peak_proc);
    if (peak >= 0) sel.value = String(peak);
    $('timeline-proc-group').hidden = tl.length < 2;
  }

  /* ---------- the timeline: lanes, curves, the range ---------- */

  let laneLayout = null;

  function renderLanes() {
    const p = P();
    const panel = $('time-panel');
    panel.hidden = !p.tl && !(p.d.timeline || []).length;
    if (panel.hidden) { laneLayout = null; return; }
    const threads = p.d.threads || [];
    laneLayout = window.FathomTimeline.draw($('lanes'), $('lanes-wrap'), p, p.tl, state.range, {
      /* The whole hue circle, so that neighbouring slices' functions differ. */
      color: (f) => (f >= 0 ? 'hsl(' + (hashHue(p.names[f]) % 360) + ',62%,52%)' : '#c9ced4'),
      funcOf: (node) => p.func[node],
      threadName: (k) => { const t = threads[k] || {}; return (t.name || 'thread') + ' ' + t.tid; },
      fmtDuration, fmtBytes,
    });
    const note = $('range-note');
    $('range-clear').hidden = !state.range;
    if (state.range && p.tl) {
      const t0 = state.range[0] * p.tl.sliceNs, t1 = state.range[1] * p.tl.sliceNs;
      note.textContent = 'CPU of ' + fmtDuration(t0) + ' to ' + fmtDuration(t1) +
        ' only (flame graph and tables; since each process started)';
      note.dataset.from = String(t0);
      note.dataset.to = String(t1);
    } else {
      note.textContent = p.tl ? 'drag over the lanes to see one time range' : 'no CPU samples in time';
      delete note.dataset.from;
      delete note.dataset.to;
    }
  }

  /* A range [t0, t1] in ns (null: the whole run) as whole slices. */
  function setRange(r) {
    const tl = P().tl;
    if (r && tl) {
      const s0 = Math.max(0, Math.floor(r[0] / tl.sliceNs));
      const s1 = Math.min(tl.slices, Math.max(s0 + 1, Math.ceil(r[1] / tl.sliceNs)));
      state.range = [s0, s1];
    } else {
      state.range = null;
    }
    renderFlame();
    if (state.tab === 'hotspots') renderTable();
    renderLanes();
  }

  /* ---------- diff ---------- */

  /* The union of both call trees, matched by function name and module. */
  function buildDiff() {
    const [base, neu] = profiles;
    const keyIndex = new Map();
    const fnames = [];
    const fmods = [];
    const funcKey = (p, f) => {
      const k = p.names[f] + '\u0000' + p.moduleOf(f);
      let id = keyIndex.get(k);
      if (id === undefined) {
        id = fnames.length;
        keyIndex.set(k, id);
        fnames.push(p.names[f]);
        fmods.push(p.moduleOf(f));
      }
      return id;
    };
    const nodeIndex = new Map();
    const parent = [-1];
    const mfunc = [-1];
    const maps = profiles.map((p) => {
      const map = new Int32Array(p.tree.n);
      for (let i = 1; i < p.tree.n; i++) {
        const mp = map[p.tree.parent[i]];
        const mf = funcKey(p, p.func[i]);
        const k = mp * 4194304 + mf;
        let id = nodeIndex.get(k);
        if (id === undefined) {
          id = parent.length;
          nodeIndex.set(k, id);
          parent.push(mp);
          mfunc.push(mf);
        }
        map[i] = id;
      }
      return map;
    });
    const par = Int32Array.from(parent);
    const func = Int32Array.from(mfunc);
    /* The diff table's rows: a function is its name, file and module, as
     * in the analyzer's tables. */
    const rowIndex = new Map();
    const rowNames = [];
    const rowMods = [];
    const rowOf = profiles.map((p) => Int32Array.from(p.names, (name, f) => {
      const k = name + '\u0000' + (p.files[f] || '') + '\u0000' + p.moduleOf(f);
      let id = rowIndex.get(k);
      if (id === undefined) {
        id = rowNames.length;
        rowIndex.set(k, id);
        rowNames.push(name);
        rowMods.push(p.moduleOf(f));
      }
      return id;
    }));
    return { base, neu, maps, fnames, fmods, func, rowNames, rowMods, rowOf, tree: buildTree(par, byName(fnames, func)) };
  }

  function renderDiff() {
    if (!diff) return;
    const m = metricUnion().find((x) => x.id === state.metric);
    const n = diff.tree.n;
    const sides = profiles.map((p, s) => {
      const self = new Float64Array(n);
      const w = p.weights(state.metric, -1).self;
      const map = diff.maps[s];
      for (let i = 1; i < w.length; i++) if (w[i]) self[map[i]] += w[i];
      return totalsOf(self, diff.tree.parent);
    });
    const [bt, nt] = sides;
    const rawBase = bt[0];
    /* Scaled to the new run's total, the diff shows shifts in share rather
     * than a longer or shorter run growing or shrinking everything. */
    if ($('diff-norm').checked && bt[0] > 0 && nt[0] > 0) {
      const k = nt[0] / bt[0];
      for (let i = 0; i < n; i++) bt[i] *= k;
    }
    /* Full colour for the largest change, but never for less than a tenth of
     * the total: a change of a sample or two stays pale. */
    let maxAbs = 0.1 * Math.max(nt[0], bt[0]);
    for (let i = 1; i < n; i++) maxAbs = Math.max(maxAbs, Math.abs(nt[i] - bt[i]));
    const widths = $('diff-width').value === 'base' ? bt : nt;
    diff.bt = bt;
    diff.nt = nt;
    diffFlame.setSource({
      tree: diff.tree,
      total: widths,
      label: (i) => (i === 0 ? 'all' : diff.fnames[diff.func[i]]),
      highlight: (i) => false,
      color: (i) => {
        const d = nt[i] - bt[i];
        if (d === 0 || maxAbs === 0) return '#dcdfe3';
        const a = Math.min(1, Math.abs(d) / maxAbs);
        const c = Math.round(215 - 160 * a);
        return d > 0 ? 'rgb(245,' + c + ',' + c + ')' : 'rgb(' + c + ',' + c + ',245)';
      },
    });
    diffFlame.draw();
    const norm = $('diff-norm').checked ? ' (base scaled to the new total)' : '';
    $('diff-summary').textContent = (m ? m.label : state.metric) + ': base ' + fmtValue(m, rawBase) + ', new ' +
      fmtValue(m, nt[0]) + ' (' + fmtSigned(m, nt[0] - rawBase) + (rawBase > 0 ? ', ' + pct(nt[0] - rawBase, rawBase) : '') + ')' + norm;
    /* Per-function totals on each side: each recording's hotspot table
     * (the analyzer's), functions matched by name, file and module. */
    const nf = diff.rowNames.length;
    const ft = [new Float64Array(nf), new Float64Array(nf)];
    const scale = $('diff-norm').checked && rawBase > 0 && nt[0] > 0 ? nt[0] / rawBase : 1;
    profiles.forEach((p, s) => {
      const tab = p.table(state.metric);
      const rowOf = diff.rowOf[s];
      for (const f of tab.rows) ft[s][rowOf[f]] += tab.ftotal[f] * (s === 0 ? scale : 1);
    });
    const rows = [];
    for (let f = 0; f < nf; f++) if (ft[0][f] !== ft[1][f]) rows.push(f);
    const key = state.diffKey;
    const dir = state.diffDir;
    const val = (f) => {
      const b = ft[0][f];
      const v = ft[1][f];
      switch (key) {
        case 'name': return diff.rowNames[f];
        case 'module': return diff.rowMods[f];
        case 'base': return b;
        case 'new': return v;
        case 'delta': return v - b; /* signed: growth first descending, shrinks first ascending */
        case 'deltaPct': return b > 0 ? (v - b) / b : Infinity;
      }
      return 0;
    };
    rows.sort((a, b) => {
      const va = val(a);
      const vb = val(b);
      return va < vb ? -dir : va > vb ? dir : a - b;
    });
    const frag = document.createDocumentFragment();
    for (const f of rows.slice(0, TABLE_ROWS)) {
      const b = ft[0][f];
      const v = ft[1][f];
      const cls = v > b ? 'grow' : 'shrink';
      const tr = el('tr', { 'data-name': diff.rowNames[f] });
      tr.append(el('td', { class: 'text name', title: diff.rowNames[f] }, diff.rowNames[f]),
        el('td', { 'data-v': b }, fmtValue(m, b)), el('td', { 'data-v': v }, fmtValue(m, v)),
        el('td', { class: cls, 'data-v': v - b }, fmtSigned(m, v - b)),
        el('td', { class: cls }, b > 0 ? (v >= b ? '+' : '\u2212') + pct(Math.abs(v - b), b) : 'new'),
        el('td', { class: 'text' }, diff.rowMods[f]));
      frag.append(tr);
    }
    $('diff-table').tBodies[0].replaceChildren(frag);
    for (const th of $('diff-table').tHead.rows[0].cells) {
      th.classList.toggle('sorted', th.dataset.key === key);
      th.classList.toggle('desc', th.dataset.key === key && dir < 0);
      th.classList.toggle('asc', th.dataset.key === key && dir > 0);
    }
  }

  /* ---------- header, info, tooltip ---------- */

  function renderHeader() {
    const p = P();
    const d = p.d;
    document.title = data.title || 'fathom report';
    $('title').textContent = data.title || 'fathom report';
    const parts = [];
    const procs = d.procs || [];
    if (procs.length === 1) parts.push('pid ' + procs[0].pid + ' ' + (procs[0].cmdline || procs[0].exe || ''));
    else parts.push(procs.length + ' processes');
    const dur = procs.reduce((a, x) => Math.max(a, x.duration_ns || 0), 0);
    if (dur) parts.push(fmtDuration(dur));
    const samples = procs.reduce((a, x) => a + (x.samples || 0), 0);
    parts.push(fmtCount(samples) + ' samples');
    const acct = d.cpu_account;
    if (acct && acct.measured_ns)
      parts.push('CPU measured ' + fmtDuration(acct.measured_ns) + ', ' +
        (100 * acct.profile_ns / acct.measured_ns).toFixed(1) + '% in the profile');
    const mem = d.mem || {};
    if (p.metric('alloc-calls')) {
      parts.push(fmtCount(mem.alloc_calls || 0) + ' allocations');
      parts.push('peak heap ' + fmtBytes(mem.peak_bytes || 0));
      parts.push('leaked ' + fmtBytes(mem.leaked_bytes || 0) + ' in ' + fmtCount(mem.leaked_blocks || 0) + ' blocks');
    }
    $('summary').textContent = (data.diff ? p.d.label + ': ' : '') + parts.join(' \u00b7 ');
    const warn = $('warnings');
    warn.replaceChildren();
    for (const w of d.warnings || []) warn.append(el('li', null, w));
    warn.hidden = !(d.warnings || []).length;
  }

  function renderInfo() {
    const tb = $('procs').tBodies[0];
    tb.replaceChildren();
    profiles.forEach((p) => {
      for (const pr of p.d.procs || []) {
        const lost = [];
        if (pr.lost_samples) lost.push(fmtCount(pr.lost_samples) + ' samples');
        if (pr.lost_alloc) lost.push(fmtCount(pr.lost_alloc) + ' allocation events');
        const alloc = pr.alloc_mode === 'sampled' ? 'sampled every ~' + fmtBytes(pr.alloc_sample_bytes) : pr.alloc_mode;
        const tr = el('tr');
        tr.append(el('td', { class: 'text' }, (p.d.label ? p.d.label + ' ' : '') + (pr.file || '')),
          el('td', null, String(pr.pid)), el('td', { class: 'text name', title: pr.cmdline || '' }, pr.cmdline || pr.exe || ''),
          el('td', null, fmtDuration(pr.duration_ns || 0)), el('td', null, fmtCount(pr.samples || 0)),
          el('td', null, (pr.hz || 0) + ' Hz ' + (pr.clock || '')), el('td', { class: 'text' }, alloc || ''),
          el('td', null, lost.join(', ') || '0'),
          el('td', { class: 'text' }, pr.damage ? 'damaged: ' + pr.damage : pr.complete ? 'complete' : 'no trailer (killed?)'));
        tb.append(tr);
      }
    });
    const th = $('totals').tHead.rows[0];
    while (th.cells.length > 1) th.deleteCell(1);
    profiles.forEach((p) => th.append(el('th', null, p.d.label || 'total')));
    const body = $('totals').tBodies[0];
    body.replaceChildren();
    for (const m of metricUnion()) {
      const tr = el('tr');
      tr.append(el('td', { class: 'text' }, m.label));
      profiles.forEach((p) => {
        const pm = p.metric(m.id);
        tr.append(el('td', null, pm ? fmtValue(pm, pm.total) : '\u2013'));
      });
      body.append(tr);
    }
  }

  function showTooltip(info) {
    const tip = $('tooltip');
    if (!info) { tip.hidden = true; return; }
    const i = info.node;
    const m = metricUnion().find((x) => x.id === state.metric);
    tip.replaceChildren();
    if (info.elided !== undefined) {
      const v = info.view;
      const t = v.src.tree;
      const p = info.elided;
      const count = t.childStart[p + 1] - t.childStart[p];
      const w = (info.width / v.width) * v.src.total[v.zoom];
      tip.append(el('b', null, 'frames too narrow to draw'), document.createTextNode(
        '\nunder ' + v.src.label(p) + ' (' + count + ' children in all)\n' + fmtValue(m, w) + ' together; click to zoom in'));
    }
    const line = (label, text) => {
      const b = el('b', null, label);
      tip.append(b, document.createTextNode(' ' + text + '\n'));
    };
    if (info.elided !== undefined) {
      /* written above */
    } else if (info.view === diffFlame) {
      const name = i === 0 ? 'all' : diff.fnames[diff.func[i]];
      tip.append(el('b', null, name), document.createTextNode('\n'));
      if (i !== 0 && diff.fmods[diff.func[i]]) line('module', diff.fmods[diff.func[i]]);
      line('base', fmtValue(m, diff.bt[i]));
      line('new ', fmtValue(m, diff.nt[i]));
      line('change', fmtSigned(m, diff.nt[i] - diff.bt[i]) + (diff.bt[i] > 0 ? ' (' + pct(diff.nt[i] - diff.bt[i], diff.bt[i]) + ')' : ''));
    } else {
      const p = P();
      const f = p.func[i];
      tip.append(el('b', null, p.label(i)), document.createTextNode('\n'));
      if (f >= 0) {
        if (p.locOf(f)) line('at', p.locOf(f));
        if (p.moduleOf(f)) line('module', p.moduleOf(f));
      }
      line('total', fmtValue(m, cur.total[i]) + ' (' + pct(cur.total[i], cur.total[0]) + ')');
      line('self', fmtValue(m, cur.self[i]) + ' (' + pct(cur.self[i], cur.total[0]) + ')');
    }
    tip.hidden = false;
    const r = tip.getBoundingClientRect();
    let x = info.x + 14;
    let y = info.y + 14;
    if (x + r.width > window.innerWidth - 4) x = Math.max(4, info.x - r.width - 10);
    if (y + r.height > window.innerHeight - 4) y = Math.max(4, info.y - r.height - 10);
    tip.style.left = x + 'px';
    tip.style.top = y + 'px';
  }

  /* ---------- controls ---------- */

  function fillMetrics() {
    const sel = $('metric');
    sel.replaceChildren();
    const list = data.diff ? metricUnion() : P().metrics;
    for (const m of list) sel.append(el('option', { value: m.id }, m.label));
    if (!list.some((m) => m.id === state.metric)) state.metric = list.length ? list[0].id : 'cpu';
    if (!state.metricChosen) {
      /* Open on the first weight that has data: a recording without samples opens on memory. */
      const first = list.find((m) => m.total > 0);
      if (first) state.metric = first.id;
    }
    sel.value = state.metric;
  }

  function fillThreads() {
    const p = P();
    const sel = $('thread');
    sel.replaceChildren(el('option', { value: -1 }, 'all threads'));
    const cpuM = p.metric('cpu');
    const threads = p.d.threads || [];
    const multi = (p.d.procs || []).length > 1;
    threads.forEach((t, k) => {
      const who = (t.name || 'thread') + ' (tid ' + t.tid + (multi ? ', pid ' + t.pid : '') + ')';
      sel.append(el('option', { value: k }, who + (cpuM ? ' \u2014 ' + fmtValue(cpuM, t.cpu || 0) : '')));
    });
    if (state.thread >= threads.length) state.thread = -1;
    sel.value = String(state.thread);
  }

  /* ---------- waiting (record --wait) ---------- */

  /* A function at a line: "name (file.c:12)". */
  function siteName(p, f, line) {
    if (!(f >= 0)) return '[no stack]';
    const file = p.files[f] ? p.files[f].split('/').pop() : null;
    return p.names[f] + (file ? ' (' + file + (line ? ':' + line : '') + ')' : '');
  }
  /* [func, line, weight, ...] triples as "site 78%, site 22%" (the first three). */
  function siteList(p, triples, whole) {
    const out = [];
    for (let i = 0; i + 2 < triples.length; i += 3)
      out.push({ f: triples[i], line: triples[i + 1], w: triples[i + 2] });
    out.sort((a, b) => b.w - a.w);
    const s = out.slice(0, 3).map((x) => siteName(p, x.f, x.line) + ' ' + pct(x.w, whole));
    if (out.length > 3) s.push(out.length - 3 + ' more');
    return s.join(', ');
  }
  function timelineBar(t) {
    const bar = el('div', { class: 'tl-bar' });
    for (let c = 0; c < t.run.length; c++) {
      const run = t.run[c], wait = t.wait[c], seen = t.seen[c];
      /* What the thread did most in the column, shaded by how much. */
      const other = seen - run - wait;
      const col = seen < 500 && run + wait < 250 ? 'transparent'
        : run >= wait && run >= other ? '#2f9e55' : wait >= other ? '#e08a2f' : '#d5dae0';
      const i = el('i');
      i.style.background = col;
      i.title = 'running ' + (run / 10).toFixed(0) + '%, waiting ' + (wait / 10).toFixed(0) + '%';
      bar.append(i);
    }
    return bar;
  }
  function renderWaiting() {
    const p = P();
    const w = p.d.waits;
    if (!w) return;
    const threads = p.d.threads || [];
    $('waiting-summary').textContent = 'waiting ' + fmtDuration(w.total_ns) +
      (w.sigma2_ns > 0 ? ' (\u00b1 ' + fmtDuration(w.sigma2_ns) + ': short waits are sampled)' : '') +
      ' in ' + w.threads.filter((t) => t.wait_ns > 0).length + ' threads';
    const tb = $('wait-threads').tBodies[0];
    tb.replaceChildren();
    for (const t of [...w.threads].sort((a, b) => b.wait_ns - a.wait_ns)) {
      const th = threads[t.thread] || {};
      const reasons = Object.entries(t.by_reason).sort((a, b) => b[1] - a[1]).slice(0, 2)
        .map(([r, v]) => r + ' ' + pct(v, t.wait_ns)).join(', ');
      const tr = el('tr');
      const cell = el('td', { class: 'text tl' });
      if (t.run.length) cell.append(timelineBar(t));
      tr.append(el('td', { class: 'text' }, (th.name || 'thread') + ' (tid ' + th.tid + ')'),
        el('td', null, fmtDuration(t.wait_ns)), el('td', null, pct(Math.min(t.wait_ns, t.seen_ns), t.seen_ns)),
        el('td', { class: 'text' }, reasons), cell);
      tb.append(tr);
    }
    const rb = $('wait-reasons').tBodies[0];
    rb.replaceChildren();
    for (const [r, v] of Object.entries(w.by_reason).sort((a, b) => b[1] - a[1])) {
      const tr = el('tr');
      tr.append(el('td', { class: 'text' }, r), el('td', null, fmtDuration(v)), el('td', null, pct(v, w.total_ns)));
      rb.append(tr);
    }
    const ob = $('wait-objects').tBodies[0];
    ob.replaceChildren();
    for (const o of w.objects) {
      const tr = el('tr');
      tr.append(el('td', { class: 'text' }, o.kind + ' ' + o.address),
        el('td', null, o.wait_ns ? fmtDuration(o.wait_ns) : '\u2013'), el('td', null, String(o.threads)),
        el('td', { class: 'text name' }, siteList(p, o.waiters, o.wait_ns)),
        el('td', { class: 'text name' }, o.releases ? siteList(p, o.holders, o.releases) + ' of ' +
          fmtCount(o.releases) : ''));
      ob.append(tr);
    }
  }

  function renderAll() {
    renderHeader();
    renderFlame();
    renderLanes();
    if (state.tab === 'hotspots') renderTable();
    if (state.tab === 'source') renderSource();
    if (state.tab === 'memory') renderTimeline();
    if (state.tab === 'diff') renderDiff();
    if (state.tab === 'waiting') renderWaiting();
  }

  function setTab(tab) {
    state.tab = tab;
    for (const b of document.querySelectorAll('.tab')) b.classList.toggle('on', b.dataset.tab === tab);
    for (const s of document.querySelectorAll('.panel')) s.hidden = s.id !== 'panel-' + tab;
    if (tab === 'hotspots') renderTable();
    if (tab === 'source') renderSource();
    if (tab === 'memory') renderTimeline();
    if (tab === 'diff') renderDiff();
    if (tab === 'waiting') renderWaiting();
    if (tab === 'info') renderInfo();
  }

  function resetView() {
    state.search = '';
    state.focus = -1;
    $('search').value = '';
    updateMatch();
    flame.zoom = 0;
    renderFlame();
    if (state.tab === 'hotspots') renderTable();
  }

  function wire() {
    $('metric').addEventListener('change', (e) => {
      state.metric = e.target.value;
      state.metricChosen = true;
      renderFlame();
      if (state.tab === 'hotspots') renderTable();
      if (state.tab === 'source') renderSource();
      if (state.tab === 'diff') renderDiff();
    });
    $('thread').addEventListener('change', (e) => {
      state.thread = Number(e.target.value);
      renderFlame();
      if (state.tab === 'hotspots') renderTable();
    });
    $('profile').addEventListener('change', (e) => {
      state.prof = Number(e.target.value);
      state.focus = -1;
      state.srcFunc = -1;
      state.thread = -1;
      state.range = null;
      flame.zoom = 0;
      fillThreads();
      fillTimelineProcs();
      updateMatch();
      renderAll();
      if (state.tab === 'info') renderInfo();
    });
    const setMode = (icicle) => {
      flame.icicle = icicle;
      diffFlame.icicle = icicle;
      $('mode-flame').classList.toggle('on', !icicle);
      $('mode-icicle').classList.toggle('on', icicle);
      flame.draw();
      if (state.tab === 'diff') diffFlame.draw();
    };
    $('mode-flame').addEventListener('click', () => setMode(false));
    $('mode-icicle').addEventListener('click', () => setMode(true));
    let pending = 0;
    $('search').addEventListener('input', (e) => {
      clearTimeout(pending);
      pending = setTimeout(() => {
        state.search = e.target.value.trim();
        const refocus = state.focus >= 0;
        state.focus = -1;
        updateMatch();
        flame.draw();
        searchSummary();
        /* The table only marks the focused row; a search leaves it as it is. */
        if (refocus && state.tab === 'hotspots') renderTable();
      }, 60);
    });
    $('reset').addEventListener('click', resetView);
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') resetView();
    });
    for (const th of $('hotspots').tHead.rows[0].cells)
      th.addEventListener('click', () => {
        const k = th.dataset.key;
        if (state.sortKey === k) state.sortDir = -state.sortDir;
        else { state.sortKey = k; state.sortDir = th.classList.contains('text') ? 1 : -1; }
        renderTable();
      });
    for (const th of $('diff-table').tHead.rows[0].cells)
      th.addEventListener('click', () => {
        const k = th.dataset.key;
        if (state.diffKey === k) state.diffDir = -state.diffDir;
        else { state.diffKey = k; state.diffDir = th.classList.contains('text') ? 1 : -1; }
        renderDiff();
      });
    $('hotspots').tBodies[0].addEventListener('click', (e) => {
      const tr = e.target.closest('tr');
      if (tr) {
        focusFunc(Number(tr.dataset.func));
        showSource(Number(tr.dataset.func));
      }
    });
    for (const b of document.querySelectorAll('.tab')) b.addEventListener('click', () => setTab(b.dataset.tab));
    $('timeline-proc').addEventListener('change', renderTimeline);
    $('range-clear').addEventListener('click', () => setRange(null));
    window.FathomTimeline.wireDrag($('lanes'), () => laneLayout, setRange);
    $('diff-width').addEventListener('change', () => { diffFlame.zoom = 0; renderDiff(); });
    $('diff-norm').addEventListener('change', renderDiff);
    let resize = 0;
    window.addEventListener('resize', () => {
      clearTimeout(resize);
      resize = setTimeout(() => {
        flame.draw();
        renderLanes();
        if (state.tab === 'memory') renderTimeline();
        if (state.tab === 'diff') diffFlame.draw();
      }, 100);
    });
  }

  function showError(msg) {
    const e = $('error');
    e.textContent = msg;
    e.hidden = false;
    api.error = msg;
  }

  function main() {
    const t0 = performance.now();
    try {
      data = JSON.parse($('fathom-data').textContent);
    } catch (err) {
      showError('The profile data in this page cannot be read: ' + err.message);
      return;
    }
    if (!data || data.format !== 'fathom-viewer' || !Array.isArray(data.profiles) || !data.profiles.length) {
      showError('This page holds no fathom profile data.');
      return;
    }
    if (data.version !== 2) {
      showError('This report\'s data (version ' + data.version + ') is for ' +
        (data.version > 2 ? 'a newer' : 'an older') + ' fathom than this viewer (version 2).');
      return;
    }
    const t1 = performance.now();
    try {
      profiles = data.profiles.map((d) => new Profile(d));
    } catch (err) {
      showError(err.message);
      return;
    }
    const t2 = performance.now();
    stats.scriptStartMs = t0;
    stats.parseMs = t1 - t0;
    stats.buildMs = t2 - t1;
    stats.nodes = profiles.reduce((a, p) => a + p.tree.n - 1, 0);
    state.prof = profiles.length - 1;
    const hooks = { tooltip: showTooltip, zoomed: (node) => {
      zoomLabel();
      searchSummary();
      /* A clicked frame's function opens in the Source tab. */
      if (node > 0) showSource(P().func[node]);
    } };
    flame = new FlameView($('flame'), $('flame-scroll'), hooks);
    diffFlame = new FlameView($('diff-flame'), $('diff-scroll'), { tooltip: showTooltip });
    if (data.diff && profiles.length === 2) {
      $('profile-group').hidden = false;
      profiles.forEach((p, k) => $('profile').append(el('option', { value: k }, p.d.label || 'recording ' + (k + 1))));
      $('profile').value = String(state.prof);
      $('diff-tab').hidden = false;
      diff = buildDiff();
      state.tab = 'diff';
    }
    fillMetrics();
    fillThreads();
    fillTimelineProcs();
    $('waiting-tab').hidden = !profiles.some((p) => p.d.waits);
    wire();
    updateMatch();
    renderHeader();
    renderFlame();
    renderLanes();
    const t3 = performance.now();
    stats.drawMs = t3 - t2;
    /* The second animation frame starts after the first one was painted;
     * the panel below the graph is filled in after that. */
    requestAnimationFrame(() => requestAnimationFrame(() => {
      stats.firstPaintMs = performance.now();
      setTab(state.tab);
      stats.readyMs = performance.now();
      api.ready = true;
    }));
  }

  api.state = state;
  api.flame = () => flame;
  api.diffFlame = () => diffFlame;
  api.locate = (name) => flame.locate(name);
  api.locateDiff = (name) => diffFlame.locate(name);
  api.drawnFrames = () => flame.rects.n;
  /* For tests: the analyzer's table of a metric and threadTable() run on
   * every thread's weights, as [func, self, total] rows. */
  api.hotspotTables = (id) => {
    const p = P();
    const rows = (t) => t.rows.map((f) => [f, t.fself[f], t.ftotal[f]]);
    return { analyzer: rows(p.table(id)), page: rows(p.threadTable(p.weights(id, -1))) };
  };
  api.highlighted = () => flame.drawnHighlighted;
  /* For tests: choose a time range (ns since start; null clears) and read it. */
  api.setRange = (t0, t1) => setRange(t0 === null ? null : [t0, t1]);
  api.range = () => state.range;

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main);
  else main();
})();
