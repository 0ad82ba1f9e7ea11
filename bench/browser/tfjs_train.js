// TensorFlow.js in the browser, trained the way gradlab's /train page trains:
// the reference CNN for 1x28x28 input (conv-BN-ReLU x2, pool, x2, pool,
// conv-BN-ReLU, pool, dropout, dense 10), SGD with momentum 0.9, softmax
// cross-entropy, on Fashion-MNIST decoded from the same GLPACK file the site
// serves, normalised the same way (one mean and standard deviation).
//
// Query: ?pack=URL&batch=32&warmup=2&steps=6&lr=0.01&seed=1
// Result: window.__result = {ok, img_per_s, ms_per_step, ...} or {error}.
//
// Every step awaits its loss (trainOnBatch), as the page does with its
// read-back on a run this short, so both sides wait for the GPU once a step.
'use strict';

const say = (s) => { document.getElementById('log').textContent += s + '\n'; };

// crc32 (IEEE) of the pack, which ends in the checksum of every byte before it.
function crc32(bytes) {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[i] = c >>> 0;
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = table[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

// loadPack reads core/data's GLPACK v1 (see core/data/pack.go) and returns
// its sets by name.
async function loadPack(url) {
  const resp = await fetch(url);
  if (!resp.ok) throw new Error(`${url}: HTTP ${resp.status}`);
  const raw = await new Response(resp.body.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer();
  const b = new Uint8Array(raw), v = new DataView(raw);
  if (new TextDecoder().decode(b.subarray(0, 6)) !== 'GLPACK') throw new Error('not a GLPACK file');
  if (v.getUint16(6, true) !== 1) throw new Error(`GLPACK version ${v.getUint16(6, true)}, want 1`);
  if (crc32(b.subarray(0, b.length - 4)) !== v.getUint32(b.length - 4, true)) throw new Error('GLPACK checksum mismatch');
  const sets = {};
  let off = 10;
  for (let s = v.getUint16(8, true); s > 0; s--) {
    const nameLen = v.getUint16(off, true);
    const name = new TextDecoder().decode(b.subarray(off + 2, off + 2 + nameLen));
    off += 2 + nameLen;
    const n = v.getUint32(off, true), c = v.getUint16(off + 4, true), h = v.getUint16(off + 6, true),
      w = v.getUint16(off + 8, true), classes = v.getUint16(off + 10, true);
    off += 12;
    const labels = b.subarray(off, off + n);
    off += n;
    const images = b.subarray(off, off + n * c * h * w);
    off += n * c * h * w;
    sets[name] = { n, c, h, w, classes, labels, images };
  }
  return sets;
}

function buildModel(s, lr) {
  const L = tf.layers, m = tf.sequential();
  const cbr = (filters, first) => {
    m.add(L.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false, ...(first ? { inputShape: [s.h, s.w, s.c] } : {}) }));
    m.add(L.batchNormalization({ axis: -1 }));
    m.add(L.activation({ activation: 'relu' }));
  };
  cbr(32, true); cbr(32); m.add(L.maxPooling2d({ poolSize: 2 }));
  cbr(64); cbr(64); m.add(L.maxPooling2d({ poolSize: 2 }));
  cbr(128); m.add(L.maxPooling2d({ poolSize: 2 }));
  m.add(L.flatten()); m.add(L.dropout({ rate: 0.5 }));
  m.add(L.dense({ units: s.classes }));
  m.compile({ optimizer: tf.train.momentum(lr, 0.9), loss: (y, logits) => tf.losses.softmaxCrossEntropy(y, logits) });
  return m;
}

// A small seeded generator (mulberry32) for the batch order.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function run() {
  const q = new URLSearchParams(location.search);
  const num = (k, d) => (q.has(k) ? Number(q.get(k)) : d);
  const batch = num('batch', 32), warmup = num('warmup', 2), steps = num('steps', 6), lr = num('lr', 0.01);
  if (!(batch >= 1 && warmup >= 1 && steps >= 1)) throw new Error('batch, warmup and steps must be at least 1');
  if (!navigator.gpu) throw new Error('no navigator.gpu in this browser');
  if (!(await tf.setBackend('webgpu'))) throw new Error('TF.js could not start its webgpu backend');
  await tf.ready();
  say(`TF.js ${tf.version_core}, backend ${tf.getBackend()}`);

  const t0 = performance.now();
  const s = (await loadPack(q.get('pack'))).train;
  if (!s) throw new Error('the pack has no "train" set');
  if (s.c !== 1) throw new Error('this page lays images out NHWC for one channel only');
  const d = s.c * s.h * s.w;
  let sum = 0, sq = 0;
  for (let i = 0; i < s.images.length; i++) { sum += s.images[i]; sq += s.images[i] * s.images[i]; }
  const mean = sum / s.images.length / 255, std = Math.sqrt(sq / s.images.length / 65025 - mean * mean);
  say(`loaded ${s.n} images of ${s.c}x${s.h}x${s.w} in ${(performance.now() - t0).toFixed(0)} ms`);

  const model = buildModel(s, lr);
  const next = rng(num('seed', 1));
  const step = async () => {
    // Fresh arrays each step: TF.js may keep a reference until it uploads.
    const x = new Float32Array(batch * d), y = new Float32Array(batch * s.classes);
    for (let i = 0; i < batch; i++) {
      const k = Math.floor(next() * s.n);
      for (let j = 0; j < d; j++) x[i * d + j] = (s.images[k * d + j] / 255 - mean) / std;
      y[i * s.classes + s.labels[k]] = 1;
    }
    const xs = tf.tensor4d(x, [batch, s.h, s.w, s.c]), ys = tf.tensor2d(y, [batch, s.classes]);
    const loss = await model.trainOnBatch(xs, ys);
    xs.dispose(); ys.dispose();
    return loss;
  };
  const losses = [];
  let tStart = 0;
  for (let i = 0; i < warmup + steps; i++) {
    if (i === warmup) tStart = performance.now();
    const ts = performance.now();
    losses.push(await step());
    say(`step ${i + 1}: loss ${losses[i].toFixed(4)}, ${(performance.now() - ts).toFixed(0)} ms${i < warmup ? ' (warm-up)' : ''}`);
  }
  const secs = (performance.now() - tStart) / 1000;
  const ad = await navigator.gpu.requestAdapter();
  return {
    ok: true, batch, warmup, steps, params: model.countParams(),
    ms_per_step: (secs * 1000) / steps, img_per_s: (steps * batch) / secs, losses,
    adapter: ad ? `${ad.info.vendor} ${ad.info.architecture} ${ad.info.description}`.trim() : '',
    tfjs: tf.version_core,
  };
}

run().then((r) => { window.__result = r; }, (e) => { say(String(e)); window.__result = { error: String(e && e.message || e) }; });
