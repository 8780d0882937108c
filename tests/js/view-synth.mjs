// Synthetic viewer data (any number of distinct stacks) and the page assembly
// that fathom view does, for the viewer's speed test and for development.
import fs from 'node:fs';
import path from 'node:path';

// A small deterministic PRNG, so that a failing run can be repeated.
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// The hotspot table of weights [node, w, ...] (fathom writes the analyzer's):
// [step, self, total, ...] by function. Self where a stack ends and each stack
// once in a total: in synthetic data every allocation's site is its stack's end.
export function hotspotsOf(parent, func, pairs) {
  const self = new Map();
  const total = new Map();
  for (let i = 0; i < pairs.length; i += 2) {
    const w = pairs[i + 1];
    self.set(func[pairs[i]], (self.get(func[pairs[i]]) || 0) + w);
    const seen = new Set();
    for (let n = pairs[i]; n >= 0; n = parent[n]) seen.add(func[n]);
    for (const f of seen) total.set(f, (total.get(f) || 0) + w);
  }
  let prev = -1;
  return [...total.keys()].sort((a, b) => a - b).flatMap((f) => {
    const row = [f - prev, self.get(f) || 0, total.get(f)];
    prev = f;
    return row;
  });
}

// Returns viewer data (schema version 2) with `stacks` distinct stacks.
export function synthData(stacks, seed = 1) {
  const rand = rng(seed);
  const nf = 3000;
  const names = [];
  const files = [];
  const lines = [];
  const mods = [];
  for (let f = 0; f < nf; f++) {
    names.push(f === 0 ? 'main' : f === 1 ? 'hot_loop' : 'fn_' + f.toString(36) + '_' + ['parse', 'hash', 'copy', 'sort', 'emit'][f % 5]);
    files.push(f % 7 === 0 ? null : 'src/file' + (f % 50) + '.c');
    lines.push(f % 7 === 0 ? 0 : 10 + f);
    mods.push(f % 11 === 0 ? 1 : 0);
  }
  const parent = [];
  const func = [];
  const index = new Map();
  const child = (p, f) => {
    const k = p * 4096 + f;
    let id = index.get(k);
    if (id === undefined) {
      id = parent.length;
      parent.push(p);
      func.push(f);
      index.set(k, id);
    }
    return id;
  };
  const leafW = new Map();
  const cpu = [];
  const bytes = [];
  const calls = [];
  while (leafW.size < stacks) {
    const depth = 6 + Math.floor(rand() * 22);
    let node = child(-1, 0);
    for (let d = 1; d < depth; d++) {
      // Low-numbered functions near the root, so that prefixes are shared.
      const span = Math.min(nf - 2, 4 + d * d * 6);
      const f = d === 3 && rand() < 0.3 ? 1 : 2 + Math.floor(Math.pow(rand(), 2) * span);
      node = child(node, f);
    }
    if (leafW.has(node)) continue;
    leafW.set(node, 1);
    const w = 1 + Math.floor(rand() * 20);
    cpu.push(node, w);
    if (rand() < 0.3) {
      const c = 1 + Math.floor(rand() * 50);
      calls.push(node, c);
      bytes.push(node, c * (16 + Math.floor(rand() * 4096)));
    }
  }
  const sum = (a) => { let s = 0; for (let i = 1; i < a.length; i += 2) s += a[i]; return s; };
  // The schema's lists: nodes ascending, each written as the step from the previous one (from -1).
  const steps = (a, stride) => {
    const rows = [];
    for (let i = 0; i < a.length; i += stride) rows.push(a.slice(i, i + stride));
    rows.sort((x, y) => x[0] - y[0] || (stride === 3 ? x[1] - y[1] : 0));
    let prev = -1;
    return rows.flatMap((r) => { const o = [r[0] - prev, ...r.slice(1)]; prev = r[0]; return o; });
  };
  const threads = [
    { proc: 0, pid: 4242, tid: 4242, name: 'main', cpu: 0, samples: 0 },
    { proc: 0, pid: 4242, tid: 4243, name: 'worker', cpu: 0, samples: 0 },
  ];
  const threadCpu = [];
  for (let i = 0; i < cpu.length; i += 2) {
    const t = func[cpu[i]] % 2;
    threadCpu.push(cpu[i], t, cpu[i + 1]);
    threads[t].cpu += cpu[i + 1];
    threads[t].samples += cpu[i + 1];
  }
  const t = [];
  const heap = [];
  const rss = [];
  for (let k = 0; k < 2000; k++) {
    t.push(k * 5e6);
    heap.push(Math.round(1e6 + 5e6 * Math.sin(k / 300) ** 2));
    rss.push(Math.round(3e6 + 6e6 * Math.sin(k / 300) ** 2));
  }
  const peakK = heap.indexOf(Math.max(...heap));
  const total = sum(cpu);
  return {
    format: 'fathom-viewer', version: 2, title: 'synthetic profile: ' + stacks + ' distinct stacks',
    generator: 'view-synth.mjs', diff: false,
    profiles: [{
      label: '', files: ['synthetic.fdump'],
      procs: [{ file: 'synthetic.fdump', pid: 4242, ppid: 1, generation: 0, exe: '/usr/bin/synth', cmdline: 'synth --big',
        hz: 99, clock: 'cpu', alloc_mode: 'exact', alloc_sample_bytes: 0, start_ms: 1700000000000, duration_ns: 1e10,
        samples: total, sample_weight: total, lost_samples: 0, lost_alloc: 0, complete: true, damage: null }],
      metrics: [
        { id: 'cpu', label: 'CPU time', unit: 'samples', total, ns_per_unit: 1e9 / 99 },
        { id: 'alloc-calls', label: 'Allocation calls', unit: 'count', total: sum(calls) },
        { id: 'alloc-bytes', label: 'Allocated bytes', unit: 'bytes', total: sum(bytes) },
      ],
      threads, modules: ['synth', 'libc.so.6'],
      funcs: { name: names, file: files, line: lines, module: mods },
      nodes: { up: parent.map((q, i) => i - q), func },
      weights: { cpu: steps(cpu, 2), 'alloc-calls': steps(calls, 2), 'alloc-bytes': steps(bytes, 2) },
      hotspots: { cpu: hotspotsOf(parent, func, cpu), 'alloc-calls': hotspotsOf(parent, func, calls),
        'alloc-bytes': hotspotsOf(parent, func, bytes) },
      thread_cpu: steps(threadCpu, 3),
      timeline: [{ proc: 0, t, heap, rss }],
      mem: { alloc_calls: sum(calls), alloc_bytes: sum(bytes), frees: sum(calls), temp_calls: 0, peak_bytes: heap[peakK],
        peak_time_ns: t[peakK], peak_proc: 0, leaked_bytes: 0, leaked_blocks: 0, sampled: false, scale: 1 },
      warnings: [],
    }],
  };
}

// The same assembly as fathom view: the three markers of index.html replaced,
// every '<' of the data written as \u003c.
export function assemble(viewerDir, data) {
  const html = fs.readFileSync(path.join(viewerDir, 'index.html'), 'utf8');
  const css = fs.readFileSync(path.join(viewerDir, 'viewer.css'), 'utf8');
  const tl = path.join(viewerDir, 'timeline.js');
  const js = (fs.existsSync(tl) ? fs.readFileSync(tl, 'utf8') + '\n' : '') +
    fs.readFileSync(path.join(viewerDir, 'viewer.js'), 'utf8');
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return html.replace('<!--FATHOM:CSS-->', () => css).replace('<!--FATHOM:JS-->', () => js)
    .replace('<!--FATHOM:DATA-->', () => json);
}

if (process.argv[1] && process.argv[1].endsWith('view-synth.mjs')) {
  const n = Number(process.argv[2] || 100000);
  const out = process.argv[3] || 'synth.html';
  const viewer = process.argv[4] || path.join(path.dirname(new URL(import.meta.url).pathname), '../../viewer');
  const data = synthData(n);
  fs.writeFileSync(out, assemble(viewer, data));
  console.log(out + ': ' + n + ' distinct stacks, ' + data.profiles[0].nodes.up.length + ' nodes, ' +
    fs.statSync(out).size + ' bytes');
}
