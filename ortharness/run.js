// Runs ONNX models in ONNX Runtime (onnxruntime-node) for onnxloss's tests.
// Reads one JSON request on stdin:
//   {"jobs": [{"model": "path.onnx", "inputs": {"name": {"dtype": "float32", "dims": [2, 3], "data": [...]}},
//              "outputs": ["loss"] (optional: fetch only these)}]}
// and writes {"results": [{"outputs": {"name": {"dtype", "dims", "data"}}} | {"error": "..."}]}.
// float16/bfloat16 data travel as uint16 bit patterns; int64 as numbers; non-finite
// floats as the strings "NaN", "Infinity", "-Infinity" (JSON has no such numbers).
'use strict';
const ort = require('onnxruntime-node');

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on('data', (c) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

function num(v) {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  throw new Error('bad number ' + JSON.stringify(v));
}

function toTensor(spec) {
  const n = spec.data.length;
  switch (spec.dtype) {
    case 'float32': return new ort.Tensor('float32', Float32Array.from(spec.data, num), spec.dims);
    case 'float64': return new ort.Tensor('float64', Float64Array.from(spec.data, num), spec.dims);
    case 'float16': return new ort.Tensor('float16', Uint16Array.from(spec.data), spec.dims);
    case 'bfloat16': return new ort.Tensor('bfloat16', Uint16Array.from(spec.data), spec.dims);
    case 'int64': return new ort.Tensor('int64', BigInt64Array.from(spec.data, (v) => BigInt(v)), spec.dims);
    case 'int32': return new ort.Tensor('int32', Int32Array.from(spec.data), spec.dims);
    case 'bool': return new ort.Tensor('bool', Uint8Array.from(spec.data, (v) => (v ? 1 : 0)), spec.dims);
    default: throw new Error('unsupported input dtype ' + spec.dtype + ' (' + n + ' values)');
  }
}

function fromTensor(t) {
  const out = [];
  for (const v of t.data) {
    if (typeof v === 'bigint') out.push(Number(v));
    else if (typeof v === 'boolean') out.push(v ? 1 : 0);
    else if (Number.isFinite(v)) out.push(v);
    else out.push(Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity');
  }
  return { dtype: t.type, dims: Array.from(t.dims), data: out };
}

async function runJob(job) {
  const opts = { graphOptimizationLevel: job.optimize === false ? 'disabled' : 'all', intraOpNumThreads: job.threads || 1 };
  const session = await ort.InferenceSession.create(job.model, opts);
  const feeds = {};
  for (const [name, spec] of Object.entries(job.inputs || {})) feeds[name] = toTensor(spec);
  const res = job.outputs && job.outputs.length ? await session.run(feeds, job.outputs) : await session.run(feeds);
  const outputs = {};
  for (const [name, t] of Object.entries(res)) outputs[name] = fromTensor(t);
  await session.release();
  return { outputs };
}

async function main() {
  const req = JSON.parse(await readStdin());
  const results = [];
  for (const job of req.jobs) {
    try {
      results.push(await runJob(job));
    } catch (e) {
      results.push({ error: String(e && e.message ? e.message : e) });
    }
  }
  process.stdout.write(JSON.stringify({ ort_version: ort.env.versions.node, results }));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
