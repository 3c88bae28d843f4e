// Times ONNX Runtime (onnxruntime-node) on one exported architecture and
// its input (NAME_input.npy, float32 or int64); scripts/bench-archs.sh runs
// it beside the Go evaluator. Usage:
//   node scripts/bench-archs.js MODEL INPUT.npy [--k 5] [--threads 1]
// All graph optimizations, the given intra-op threads (inter-op 1,
// sequential); one warm-up, then K timed runs; prints min/median wall ms.
'use strict';
const path = require('path');
const ort = require(path.join(__dirname, '..', 'ortharness', 'node_modules', 'onnxruntime-node'));
const fs = require('fs');

function readNpy(file) {
  const b = fs.readFileSync(file);
  const hlen = b.readUInt16LE(8);
  const header = b.slice(10, 10 + hlen).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  if (/True/.test(/'fortran_order':\s*(\w+)/.exec(header)[1])) throw new Error('fortran order');
  const data = b.slice(10 + hlen);
  const ab = data.buffer.slice(data.byteOffset, data.byteOffset + data.length);
  if (descr === '<f4') return new ort.Tensor('float32', new Float32Array(ab), shape);
  if (descr === '<i8') return new ort.Tensor('int64', new BigInt64Array(ab), shape);
  throw new Error('unsupported dtype ' + descr);
}

async function main() {
  const a = process.argv.slice(2);
  const o = { k: 5, threads: 1 };
  const pos = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i].startsWith('--')) o[a[i].slice(2)] = Number(a[++i]);
    else pos.push(a[i]);
  }
  const [model, input] = pos;
  const session = await ort.InferenceSession.create(model, {
    graphOptimizationLevel: 'all', intraOpNumThreads: o.threads, interOpNumThreads: 1, executionMode: 'sequential',
  });
  const feeds = { [session.inputNames[0]]: readNpy(input) };
  await session.run(feeds); // warm-up
  const ms = [];
  for (let i = 0; i < o.k; i++) {
    if (global.gc) global.gc();
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const s = [...ms].sort((x, y) => x - y);
  console.log(JSON.stringify({ runtime: 'ort', threads: o.threads, k: o.k, min_ms: s[0], median_ms: s[s.length >> 1], runs_ms: ms }));
}

main().catch((e) => { console.error(String(e && e.stack ? e.stack : e)); process.exit(1); });
