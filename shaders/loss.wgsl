// Softmax cross-entropy (forward and backward in one pass), per-row argmax
// and correct-prediction flags, and the single-workgroup sum that turns
// per-row values into a mean or a count on the GPU.
//
// Row kernels run one workgroup per row of the (N, C) scores; the row index
// folds a 2-D grid (row = wid.x + wid.y * nwg.x) because N may exceed 65535.
// Bindings: 0 params, 1 scores, 2 labels (u32), 3 dscores, 4 per-row output,
// 5 reduce input, 6 reduce output. Each entry point uses a subset.

// 64 invocations per row: rows are short (C = 10 in the reference CNN), so
// a wider workgroup would mostly idle (on lavapipe 256 was 5x slower at
// N = 128, C = 10); strided loops still cover thousands of classes.
const WG: u32 = 64u;

struct Params {
    n: u32,      // rows (reduce: values to sum)
    c: u32,      // classes
    scale: f32,  // softmax_xent: 1/N for dscores; reduce: factor on the sum
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> scores: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read_write> dscores: array<f32>;
@group(0) @binding(4) var<storage, read_write> row_out: array<f32>;
@group(0) @binding(5) var<storage, read> partial: array<f32>;
@group(0) @binding(6) var<storage, read_write> total: array<f32>;

var<workgroup> red: array<f32, WG>;
var<workgroup> red_idx: array<u32, WG>;

fn row_of(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wid.x + wid.y * nwg.x;
}

// Tree reductions over red[0..WG). Called by every invocation of the
// workgroup (barriers need uniform control flow); the result is in red[0].
fn reduce_max(li: u32) {
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        workgroupBarrier();
        if (li < s) {
            red[li] = max(red[li], red[li + s]);
        }
    }
    workgroupBarrier();
}

fn reduce_sum(li: u32) {
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        workgroupBarrier();
        if (li < s) {
            red[li] = red[li] + red[li + s];
        }
    }
    workgroupBarrier();
}

// loss_i = log(sum_j exp(s_j - top)) - (s_y - top), with top the row maximum,
// so the largest exponent is exp(0) = 1: nothing overflows however large the
// scores (the course's trick), and -log p_y is formed without p_y, which
// underflows to 0 when the correct class scores far below the others.
// dscores = (softmax - onehot(y)) * scale, scale = 1/N, in the same pass:
// the exponentials are recomputed rather than stored, which costs one exp
// per element and saves a round trip through memory.
@compute @workgroup_size(WG)
fn softmax_xent(@builtin(workgroup_id) wid: vec3<u32>,
                @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) li: u32) {
    let row = row_of(wid, nwg);
    if (row >= p.n) {
        return;
    }
    let base = row * p.c;
    // Idle invocations (li >= C) start from an element of the row, which
    // cannot exceed its maximum (WGSL has no -inf literal).
    var top = scores[base];
    for (var j = li; j < p.c; j += WG) {
        top = max(top, scores[base + j]);
    }
    red[li] = top;
    reduce_max(li);
    top = red[0];
    workgroupBarrier(); // everyone has read red[0] before it is reused

    var sum = 0.0;
    for (var j = li; j < p.c; j += WG) {
        sum += exp(scores[base + j] - top);
    }
    red[li] = sum;
    reduce_sum(li);
    let z = red[0];
    let inv = 1.0 / z;
    let y = labels[row];
    for (var j = li; j < p.c; j += WG) {
        let prob = exp(scores[base + j] - top) * inv;
        dscores[base + j] = (prob - select(0.0, 1.0, j == y)) * p.scale;
    }
    if (li == 0u) {
        row_out[row] = log(z) - (scores[base + min(y, p.c - 1u)] - top);
    }
}

const NONE: u32 = 0xFFFFFFFFu;

// The row's largest score's first index (numpy's argmax tie rule). NaN
// scores never win a comparison, so they are skipped; an all-NaN row gives
// index 0. Every invocation gets the result.
fn row_argmax(row: u32, li: u32) -> u32 {
    let base = row * p.c;
    var best = 0.0;
    var idx = NONE;
    for (var j = li; j < p.c; j += WG) {
        let v = scores[base + j];
        if (v > best || (idx == NONE && v == v)) {
            best = v;
            idx = j;
        }
    }
    red[li] = best;
    red_idx[li] = idx;
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        workgroupBarrier();
        if (li < s) {
            let ov = red[li + s];
            let oi = red_idx[li + s];
            let mi = red_idx[li];
            if (oi != NONE && (mi == NONE || ov > red[li] || (ov == red[li] && oi < mi))) {
                red[li] = ov;
                red_idx[li] = oi;
            }
        }
    }
    workgroupBarrier();
    let k = red_idx[0];
    return select(k, 0u, k == NONE);
}

// row_out[row] = argmax as an f32 (exact for C < 2^24).
@compute @workgroup_size(WG)
fn argmax_rows(@builtin(workgroup_id) wid: vec3<u32>,
               @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) li: u32) {
    let row = row_of(wid, nwg);
    if (row >= p.n) {
        return;
    }
    let k = row_argmax(row, li);
    if (li == 0u) {
        row_out[row] = f32(k);
    }
}

// row_out[row] = 1 if the row's argmax is its label, else 0.
@compute @workgroup_size(WG)
fn correct_rows(@builtin(workgroup_id) wid: vec3<u32>,
                @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) li: u32) {
    let row = row_of(wid, nwg);
    if (row >= p.n) {
        return;
    }
    let k = row_argmax(row, li);
    if (li == 0u) {
        row_out[row] = select(0.0, 1.0, k == labels[row]);
    }
}

// total[0] = scale * sum of partial[0..n): one workgroup, each invocation
// summing a strided share, then a tree. Sums of 0/1 flags are exact below
// 2^24.
@compute @workgroup_size(WG)
fn reduce_rows(@builtin(local_invocation_index) li: u32) {
    var s = 0.0;
    for (var i = li; i < p.n; i += WG) {
        s += partial[i];
    }
    red[li] = s;
    reduce_sum(li);
    if (li == 0u) {
        total[0] = red[0] * p.scale;
    }
}
