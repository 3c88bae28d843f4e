// A training loop for onnxloss step models in ONNX Runtime (onnxruntime-node).
//
//   node train.js STEP.onnx [--init STEP.init.onnx] --batches BATCHES.npz
//                 [--steps N] [--lr LR] [-o PARAMS.npz|PARAMS.safetensors] [--threads T]
//
// BATCHES.npz holds one array per data input of the step model (e.g. x, labels),
// whose first axis indexes the batch: step i feeds array[i % count]. The loop runs
// the init model once for the starting state, then each step feeds the batch and
// the state and takes every X_next output back as X (lr is kept, or set by --lr).
// It prints "step I loss L" per step and writes the trained parameters (keys =
// initializer names) for `onnxloss load-params`.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');
const AdmZip = require('adm-zip');

function usage(msg) {
  process.stderr.write(`train.js: ${msg}\nusage: node train.js STEP.onnx [--init INIT.onnx] --batches BATCHES.npz [--steps N] [--lr LR] [-o PARAMS.npz|.safetensors] [--threads T]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const a = { steps: 0, threads: 1 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    const next = () => { if (i + 1 >= argv.length) usage(`${v} needs a value`); return argv[++i]; };
    if (v === '--init') a.init = next();
    else if (v === '--batches') a.batches = next();
    else if (v === '--steps') a.steps = Number(next());
    else if (v === '--lr') a.lr = Number(next());
    else if (v === '-o' || v === '--out') a.out = next();
    else if (v === '--threads') a.threads = Number(next());
    else if (v.startsWith('-')) usage(`unknown flag ${v}`);
    else if (!a.step) a.step = v;
    else usage(`unexpected argument ${v}`);
  }
  if (!a.step) usage('give the step model');
  if (!a.batches) usage('give --batches');
  if (!a.init) a.init = a.step.replace(/\.onnx$/, '') + '.init.onnx';
  if (!Number.isInteger(a.steps) || a.steps < 0) usage('--steps must be a whole number ≥ 0');
  if (a.lr !== undefined && !(a.lr > 0 && Number.isFinite(a.lr))) usage('--lr must be a finite number > 0');
  return a;
}

// ---- .npy / .npz (NumPy's format 1.0/2.0/3.0, little-endian, C order)

const DESCR = {
  '<f4': ['float32', Float32Array], '<f8': ['float64', Float64Array],
  '<i8': ['int64', BigInt64Array], '<i4': ['int32', Int32Array],
  '|b1': ['bool', Uint8Array], '|u1': ['uint8', Uint8Array], '|i1': ['int8', Int8Array],
};
const DTYPE_DESCR = Object.fromEntries(Object.entries(DESCR).map(([d, [t]]) => [t, d]));

function parseNpy(buf, name) {
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${name}: not an .npy array`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  if (hstart + hlen > buf.length) throw new Error(`${name}: truncated .npy header`);
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) throw new Error(`${name}: unreadable .npy header ${JSON.stringify(header)}`);
  if (fortran[1] === 'True') throw new Error(`${name}: Fortran-order arrays are not supported (save with np.ascontiguousarray)`);
  const kind = DESCR[descr[1]];
  if (!kind) throw new Error(`${name}: dtype ${descr[1]} is not supported (float32, float64, int64, int32, bool, uint8, int8)`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const n = dims.reduce((x, y) => x * y, 1);
  const [type, Arr] = kind;
  const start = hstart + hlen;
  if (buf.length - start < n * Arr.BYTES_PER_ELEMENT) throw new Error(`${name}: truncated .npy data`);
  const bytes = Buffer.from(buf.subarray(start, start + n * Arr.BYTES_PER_ELEMENT)); // aligned copy
  const data = new Arr(bytes.buffer, bytes.byteOffset, n);
  return { type, dims, data };
}

function npyBytes(t) {
  const descr = DTYPE_DESCR[t.type];
  if (!descr) throw new Error(`cannot write dtype ${t.type}`);
  const shape = t.dims.length === 1 ? `(${t.dims[0]},)` : `(${t.dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const h = Buffer.alloc(10);
  h.write('\x93NUMPY', 0, 'latin1'); h[6] = 1; h[7] = 0; h.writeUInt16LE(header.length, 8);
  const data = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return Buffer.concat([h, Buffer.from(header, 'latin1'), data]);
}

function readNpz(file) {
  const zip = new AdmZip(file);
  const out = {};
  for (const e of zip.getEntries()) {
    if (!e.entryName.endsWith('.npy')) continue;
    const name = e.entryName.slice(0, -4);
    out[name] = parseNpy(e.getData(), `${file}: ${name}`);
  }
  return out;
}

function writeNpz(file, tensors) {
  const zip = new AdmZip();
  for (const [name, t] of Object.entries(tensors)) zip.addFile(name + '.npy', npyBytes(t));
  zip.writeZip(file);
}

// ---- .safetensors (header: u64 little-endian length, JSON; then the raw data)

const ST_DTYPE = { float32: 'F32', float64: 'F64', int64: 'I64', int32: 'I32', bool: 'BOOL', uint8: 'U8', int8: 'I8' };

function writeSafetensors(file, tensors) {
  const header = {};
  const parts = [];
  let off = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const data = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype: ST_DTYPE[t.type], shape: t.dims, data_offsets: [off, off + data.length] };
    parts.push(data);
    off += data.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  fs.writeFileSync(file, Buffer.concat([len, Buffer.from(json), ...parts]));
}

// ---- the loop

// paramNames: the init model's outputs that are parameters, not optimizer state:
// not lr or step, and not P_<state suffix> of an earlier parameter P.
function paramNames(stateNames) {
  const params = [];
  const suffixes = ['momentum', 'exp_avg', 'exp_avg_sq'];
  for (const x of stateNames) {
    if (x === 'lr' || x === 'step') continue;
    if (params.some((p) => suffixes.some((s) => x === `${p}_${s}`))) continue;
    params.push(x);
  }
  return params;
}

function sliceBatch(t, i) {
  const count = t.dims[0];
  const per = t.data.length / count;
  const k = i % count;
  return new ort.Tensor(t.type, t.data.slice(k * per, (k + 1) * per), t.dims.slice(1));
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const opts = { intraOpNumThreads: a.threads, graphOptimizationLevel: 'all' };
  const batches = readNpz(a.batches);
  const names = Object.keys(batches);
  if (names.length === 0) usage(`${a.batches} holds no arrays`);
  const count = batches[names[0]].dims[0];
  for (const n of names) {
    if (batches[n].dims.length === 0 || batches[n].dims[0] !== count) usage(`${a.batches}: every array's first axis must count the batches (${n} has shape [${batches[n].dims}], ${names[0]} has ${count})`);
  }
  const steps = a.steps || count;

  const init = await ort.InferenceSession.create(a.init, opts);
  const state = await init.run({});
  await init.release();
  if (a.lr !== undefined) {
    state.lr = new ort.Tensor(state.lr.type, state.lr.type === 'float64' ? Float64Array.of(a.lr) : Float32Array.of(a.lr), []);
  }
  const sess = await ort.InferenceSession.create(a.step, opts);
  for (const n of sess.inputNames) {
    if (!(n in state) && !(n in batches)) usage(`the step model's input ${JSON.stringify(n)} is neither in the init model nor in ${a.batches}`);
  }
  const stateNames = Object.keys(state);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < steps; i++) {
    const feeds = {};
    for (const n of sess.inputNames) feeds[n] = n in batches ? sliceBatch(batches[n], i) : state[n];
    const out = await sess.run(feeds);
    process.stdout.write(`step ${i + 1} loss ${out[sess.outputNames[0]].data[0]}\n`);
    for (const x of stateNames) {
      if (x === 'lr') continue;
      const next = out[x + '_next'];
      if (!next) usage(`the step model has no output ${x}_next`);
      state[x] = next;
    }
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stderr.write(`${steps} steps in ${secs.toFixed(3)} s\n`);
  if (a.out) {
    const params = {};
    for (const p of paramNames(stateNames)) params[p] = { type: state[p].type, dims: Array.from(state[p].dims), data: state[p].data };
    if (a.out.endsWith('.safetensors')) writeSafetensors(a.out, params);
    else if (a.out.endsWith('.npz')) writeNpz(a.out, params);
    else usage('-o must end in .npz or .safetensors');
    process.stderr.write(`wrote ${Object.keys(params).length} parameters to ${a.out}\n`);
  }
  await sess.release();
}

main().catch((e) => {
  process.stderr.write(`train.js: ${e && e.message ? e.message : e}\n`);
  process.exit(1);
});
