// Times ONNX Runtime (onnxruntime-node) on a loss-subgraph benchmark model
// built by scripts/benchloss; scripts/bench-eval.sh runs it beside the Go
// evaluator. Usage:
//   node bench.js MODEL [--n 65536] [--c 1000] [--k 5] [--threads 2]
// Generates the same inputs as benchloss (xorshift32 seeded with 1: logits
// 3·(u1+u2+u3+u4−2) as float32 [N, C], labels the next values mod C as
// int64 [N]), creates a session with all graph optimizations and the given
// intra-op thread count (inter-op 1, sequential execution), runs once to
// warm up, then times K runs of session.run and prints min/median wall ms
// and the smallest process CPU time of a run (user+system, all threads) as JSON.
'use strict';
const ort = require('onnxruntime-node');

function args() {
  const a = process.argv.slice(2);
  const o = { model: null, n: 65536, c: 1000, k: 5, threads: 2 };
  for (let i = 0; i < a.length; i++) {
    if (a[i].startsWith('--')) o[a[i].slice(2)] = Number(a[++i]);
    else o.model = a[i];
  }
  if (!o.model) throw new Error('usage: node bench.js MODEL [--n N] [--c C] [--k K] [--threads T]');
  return o;
}

function data(n, c) {
  let x = 1;
  const next = () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return (x >>> 8) * (1 / 16777216);
  };
  const logits = new Float32Array(n * c);
  for (let i = 0; i < logits.length; i++) logits[i] = 3 * (next() + next() + next() + next() - 2);
  const labels = new BigInt64Array(n);
  for (let i = 0; i < n; i++) { next(); labels[i] = BigInt((x >>> 8) % c); }
  return { logits, labels };
}

async function main() {
  const o = args();
  const d = data(o.n, o.c);
  const session = await ort.InferenceSession.create(o.model, {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: o.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const feeds = {
    logits: new ort.Tensor('float32', d.logits, [o.n, o.c]),
    labels: new ort.Tensor('int64', d.labels, [o.n]),
  };
  let res = await session.run(feeds, ['loss']); // warm-up
  const loss = Number(res.loss.data[0]);
  const ms = [];
  const cpu = [];
  for (let i = 0; i < o.k; i++) {
    res = null;
    if (global.gc) global.gc();
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    res = await session.run(feeds, ['loss']);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  const sorted = [...ms].sort((a, b) => a - b);
  console.log(JSON.stringify({
    runtime: 'onnxruntime-node ' + require('onnxruntime-node/package.json').version,
    threads: o.threads, n: o.n, c: o.c, k: o.k,
    min_ms: sorted[0], median_ms: sorted[Math.floor(sorted.length / 2)], runs_ms: ms, loss,
    min_cpu_ms: Math.min(...cpu),
  }));
}

main().catch((e) => { console.error(e); process.exit(1); });
