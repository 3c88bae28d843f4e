// Times N runs of a step model in ONNX Runtime (one thread): node ort.js MODEL BATCH.json N
'use strict';
const path = require('path');
const ort = require(path.join(__dirname, '..', '..', 'ortharness', 'node_modules', 'onnxruntime-node'));
const fs = require('fs');
(async () => {
  const [model, batchFile, n] = process.argv.slice(2);
  const b = JSON.parse(fs.readFileSync(batchFile, 'utf8'));
  const s = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const feeds = {
    image: new ort.Tensor('float32', Float32Array.from(b.image.data), b.image.dims),
    labels: new ort.Tensor('int64', BigInt64Array.from(b.labels.data, (v) => BigInt(v)), b.labels.dims),
  };
  const times = [];
  let loss = 0;
  for (let i = 0; i < Number(n); i++) {
    const t0 = process.hrtime.bigint();
    const out = await s.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    loss = out[s.outputNames[0]].data[0];
  }
  const rest = times.length > 1 ? times.slice(1) : times;
  rest.sort((a, b) => a - b);
  console.log(JSON.stringify({ runner: 'ort', loss, median_ms: rest[Math.floor(rest.length / 2)], outputs: s.outputNames.length }));
})().catch((e) => { console.error(String(e)); process.exit(1); });
