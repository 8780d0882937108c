/* The viewer's timeline: one lane per thread (its CPU samples as a density,
 * each slice coloured by its hottest function), the heap, mapped and RSS
 * curves of a process, the recording's marks, and a time range chosen by
 * dragging, which filters the flame graph and the tables (viewer.js). */
window.FathomTimeline = (function () {
  'use strict';

  const LANE = 14;        /* px per thread lane */
  const MAX_LANES = 24;   /* the busiest threads; the rest are counted */
  const MEM_H = 64;       /* px of the memory curves */
  const LEFT = 150;       /* px of the lane labels */
  const RIGHT = 10;

  /* The "cpu_time" of a profile's data as arrays: per lane its thread, and
   * per cell (thread, slice) the call-tree nodes (data numbering, -1 the
   * root) and weights. Returns null when the data has none. */
  function parse(d) {
    const ct = d.cpu_time;
    if (!ct || !Array.isArray(ct.lanes) || !(ct.slices > 0) || !(ct.slice_ns > 0)) return null;
    const lanes = [];
    for (const l of ct.lanes) {
      const c = l.cells || [];
      const slice = [], start = [], node = [], w = [];
      const bySlice = new Float64Array(ct.slices);
      let s = -1;
      for (let i = 0; i < c.length;) {
        s += c[i];
        const n = c[i + 1];
        if (!(s >= 0 && s < ct.slices) || !(n >= 0)) throw new Error('fathom viewer: cpu_time has a bad cell');
        slice.push(s);
        start.push(node.length);
        let nd = -1;
        for (let k = 0; k < n; k++) {
          nd += c[i + 2 + 2 * k];
          node.push(nd);
          w.push(c[i + 3 + 2 * k]);
          bySlice[s] += c[i + 3 + 2 * k];
        }
        i += 2 + 2 * n;
      }
      start.push(node.length);
      let total = 0;
      for (const v of bySlice) total += v;
      lanes.push({ thread: l.thread, slice, start, node, w, bySlice, total });
    }
    lanes.sort((a, b) => b.total - a.total || a.thread - b.thread);
    return { sliceNs: ct.slice_ns, slices: ct.slices, endNs: ct.slice_ns * ct.slices, lanes };
  }

  /* Self CPU weight per tree node (node i + 1 for data node i) of the
   * slices [s0, s1), of one thread (>= 0) or all. */
  function rangeSelf(tl, n, s0, s1, thread) {
    const self = new Float64Array(n);
    for (const l of tl.lanes) {
      if (thread >= 0 && l.thread !== thread) continue;
      for (let c = 0; c < l.slice.length; c++) {
        if (l.slice[c] < s0 || l.slice[c] >= s1) continue;
        for (let k = l.start[c]; k < l.start[c + 1]; k++) {
          const nd = l.node[k];
          if (nd >= -1 && nd < n - 1) self[nd + 1] += l.w[k];
        }
      }
    }
    return self;
  }

  /* The hottest function of each cell of a lane: the function whose stacks
   * end with the most weight there (CPU self, the table's rule). */
  function hottest(l, c, funcOf) {
    const by = new Map();
    let best = -1, bw = -1;
    for (let k = l.start[c]; k < l.start[c + 1]; k++) {
      const f = funcOf(l.node[k] + 1);
      const v = (by.get(f) || 0) + l.w[k];
      by.set(f, v);
      if (v > bw) { bw = v; best = f; }
    }
    return best;
  }

  const MARK_COLOR = { start: '#2e9d4f', stop: '#d62f2f', snapshot: '#7b3fc4', rotate: '#e08a00' };

  /* Draws the timeline of profile p (its data p.d, tl = parse(p.d)) on
   * canvas; range: [s0, s1) slices or null; o.color(func) a colour,
   * o.threadName(k), o.fmtDuration, o.fmtBytes. Returns the layout the
   * drag handler needs. */
  function draw(canvas, wrap, p, tl, range, o) {
    const d = p.d;
    const mem = (d.timeline || []).find((s) => s.proc === (d.mem || {}).peak_proc) || (d.timeline || [])[0];
    const shown = tl ? tl.lanes.slice(0, MAX_LANES) : [];
    const more = tl ? tl.lanes.length - shown.length : 0;
    let endNs = tl ? tl.endNs : 0;
    if (mem) for (const t of mem.t) endNs = Math.max(endNs, t);
    for (const pr of d.procs || []) endNs = Math.max(endNs, pr.duration_ns || 0);
    if (!(endNs > 0)) endNs = 1;
    const W = Math.max(wrap.clientWidth, 400);
    const top = 4;
    const memTop = top + shown.length * LANE + (more ? LANE : 0) + (shown.length ? 6 : 0);
    const H = memTop + (mem ? MEM_H : 0) + 18;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(W * dpr);
    canvas.height = Math.round(H * dpr);
    canvas.style.width = W + 'px';
    canvas.style.height = H + 'px';
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    const pw = W - LEFT - RIGHT;
    const X = (t) => LEFT + (t / endNs) * pw;
    /* Lanes: a bar per slice, as high as its share of the busiest slice. */
    let peak = 0;
    for (const l of shown) for (const v of l.bySlice) peak = Math.max(peak, v);
    shown.forEach((l, i) => {
      const y = top + i * LANE;
      ctx.fillStyle = i % 2 ? '#fafbfc' : '#f2f4f6';
      ctx.fillRect(LEFT, y, pw, LANE - 1);
      ctx.fillStyle = '#2b3440';
      ctx.textAlign = 'right';
      ctx.fillText(o.threadName(l.thread), LEFT - 6, y + LANE / 2, LEFT - 10);
      for (let c = 0; c < l.slice.length; c++) {
        const s = l.slice[c];
        const v = l.bySlice[s];
        const h = Math.max(1, Math.round(((LANE - 2) * v) / (peak || 1)));
        const x0 = X(s * tl.sliceNs);
        const x1 = X((s + 1) * tl.sliceNs);
        ctx.fillStyle = o.color(hottest(l, c, o.funcOf));
        ctx.fillRect(x0, y + LANE - 1 - h, Math.max(1, x1 - x0 - 0.5), h);
      }
    });
    if (more) {
      ctx.fillStyle = '#5d6875';
      ctx.textAlign = 'right';
      ctx.fillText('and ' + more + ' more threads', LEFT - 6, top + shown.length * LANE + LANE / 2);
    }
    /* Memory: heap, mapped and RSS of one process. */
    if (mem) {
      let vmax = 1;
      for (let k = 0; k < mem.t.length; k++)
        vmax = Math.max(vmax, mem.heap[k], mem.rss[k], mem.mapped ? mem.mapped[k] : 0);
      const Y = (v) => memTop + MEM_H - 2 - (v / vmax) * (MEM_H - 4);
      ctx.fillStyle = '#f7f8fa';
      ctx.fillRect(LEFT, memTop, pw, MEM_H);
      const curve = (vals, color) => {
        if (!vals) return;
        ctx.strokeStyle = color;
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        for (let k = 0; k < mem.t.length; k++)
          if (k) ctx.lineTo(X(mem.t[k]), Y(vals[k])); else ctx.moveTo(X(mem.t[k]), Y(vals[k]));
        ctx.stroke();
      };
      curve(mem.rss, '#9aa4ae');
      curve(mem.mapped, '#2e9d4f');
      curve(mem.heap, '#2f6fd6');
      ctx.fillStyle = '#2b3440';
      ctx.textAlign = 'right';
      ctx.fillText('memory (max ' + o.fmtBytes(vmax) + ')', LEFT - 6, memTop + MEM_H / 2, LEFT - 10);
    }
    /* The marks of every process: windows, snapshots, rotations. */
    const bottom = H - 18;
    for (const pr of d.procs || [])
      for (const m of pr.marks || []) {
        if (!MARK_COLOR[m.what] || (m.what === 'stop' && m.time_ns === 0)) continue;
        const x = Math.round(X(m.time_ns)) + 0.5;
        ctx.strokeStyle = MARK_COLOR[m.what];
        ctx.setLineDash(m.what === 'snapshot' ? [] : [3, 3]);
        ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, bottom); ctx.stroke();
        ctx.setLineDash([]);
      }
    /* The time axis. */
    ctx.fillStyle = '#5d6875';
    ctx.textAlign = 'center';
    for (let g = 0; g <= 5; g++) {
      const t = (endNs * g) / 5;
      ctx.fillText(o.fmtDuration(t), Math.min(Math.max(X(t), LEFT + 20), LEFT + pw - 20), bottom + 9);
    }
    /* The selected range. */
    if (range && tl) {
      const x0 = X(range[0] * tl.sliceNs);
      const x1 = X(Math.min(range[1] * tl.sliceNs, endNs));
      ctx.fillStyle = 'rgba(47,111,214,0.16)';
      ctx.fillRect(x0, top, x1 - x0, bottom - top);
      ctx.strokeStyle = '#2f6fd6';
      ctx.strokeRect(x0 + 0.5, top + 0.5, x1 - x0 - 1, bottom - top - 1);
    }
    canvas.dataset.left = String(LEFT);
    canvas.dataset.width = String(pw);
    canvas.dataset.endNs = String(endNs);
    canvas.dataset.lanes = String(shown.length);
    return { left: LEFT, width: pw, endNs };
  }

  /* Dragging over canvas chooses a range: onRange([t0, t1]) in ns, or
   * onRange(null) for a click without a drag. layout() gives draw()'s. */
  function wireDrag(canvas, layout, onRange, onMove) {
    let from = null;
    const tOf = (e) => {
      const L = layout();
      const b = canvas.getBoundingClientRect();
      const x = Math.min(Math.max(e.clientX - b.left - L.left, 0), L.width);
      return (x / L.width) * L.endNs;
    };
    canvas.addEventListener('mousedown', (e) => {
      if (!layout()) return;
      from = { t: tOf(e), x: e.clientX };
      e.preventDefault();
    });
    window.addEventListener('mousemove', (e) => {
      if (from && onMove) onMove(from.t, tOf(e));
    });
    window.addEventListener('mouseup', (e) => {
      if (!from) return;
      const f = from;
      from = null;
      if (Math.abs(e.clientX - f.x) < 3) onRange(null);
      else onRange([Math.min(f.t, tOf(e)), Math.max(f.t, tOf(e))]);
    });
  }

  return { parse, rangeSelf, draw, wireDrag };
})();
