// A small but real Node.js workload for the stress suite: classes, Map, JSON,
// regular expressions, a promise chain, zlib on the thread pool, an exit code.
const zlib = require('zlib');
class Node { constructor(v) { this.v = v; this.kids = []; } }
function build(depth, v) {
  const n = new Node(v);
  if (depth > 0) for (let i = 0; i < 3; i++) n.kids.push(build(depth - 1, v * 3 + i));
  return n;
}
function sum(n) { return n.v + n.kids.reduce((a, k) => a + sum(k), 0); }
const tree = build(8, 1);
console.log('tree sum', sum(tree));
const m = new Map();
for (let i = 0; i < 100000; i++) m.set('k' + (i % 5000), (m.get('k' + (i % 5000)) || 0) + i);
console.log('map', m.size, m.get('k42'));
const text = JSON.stringify([...m.entries()].slice(0, 2000));
console.log('json', text.length, (text.match(/"k\d+7"/g) || []).length);
const packed = zlib.gzipSync(Buffer.from(text.repeat(20)));
Promise.resolve(packed)
  .then((p) => new Promise((res, rej) => zlib.gunzip(p, (e, out) => (e ? rej(e) : res(out)))))
  .then((out) => {
    console.log('round trip', out.length === text.length * 20);
    console.error('stress.js: done');
    process.exitCode = 5;
  });
