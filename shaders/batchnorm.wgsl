// Batchnorm, 1-D and spatial, forward (train and test) and backward.
//
// A tensor is viewed as (outer, C, inner): (N, D) is (N, D, 1) and
// (N, C, H, W) is (N, C, H*W). Channel c owns the m = outer*inner elements
// (o*C + c)*inner + i; sample j of the channel is o = j / inner, i = j % inner,
// so consecutive samples of a spatial channel are consecutive in memory.
//
// Per-channel reductions run in two dispatches so that a few channels with
// many samples still fill the GPU: a partial pass where workgroup
// (c, k) reduces chunk k (chunk_len samples) of channel c, then a combine
// pass with one workgroup per channel. chunks = 1 is the plain "one
// workgroup per channel" kernel, kept as the reference and for small m.
//
// The variance is never E[x²] - E[x]²: in f32 that cancels catastrophically
// when |mean| >> std. Each chunk computes its mean, then the sum of squared
// deviations from it (two passes over the chunk, the second from cache), and
// the combine merges (count, mean, M2) triples with Chan, Golub and
// LeVeque's pairwise update, which adds only non-negative terms.
//
// Binding numbers are per role, shared by every entry point, so no number
// changes type between entry points:
//   1 x, 2 gamma, 3 beta, 4 dout, 5 xhat (read), 6 partials (read),
//   7 stats (read), 8 dgamma (read), 9 dbeta (read),
//   10 running mean, 11 running var (read_write),
//   12 partials, 13 stats, 14 out, 15 xhat, 16 dx, 17 dgamma, 18 dbeta (written).
// stats is (4, C): mean, biased variance, 1/sqrt(var+eps), gamma/sqrt(var+eps).

const WG: u32 = 256u; // element-wise entry points
const RWG: u32 = 64u; // reductions: a workgroup per chunk or channel

struct Params {
    outer: u32,
    c: u32,
    inner: u32,
    m: u32,         // outer * inner: samples per channel
    chunks: u32,    // partial workgroups per channel
    chunk_len: u32, // samples per chunk
    train: u32,     // 1: batch statistics; 0: running statistics
    n: u32,         // outer * c * inner
    eps: f32,
    momentum: f32,
    one_minus_m: f32, // 1 - momentum rounded once on the CPU, not in f32
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read> dout: array<f32>;
@group(0) @binding(5) var<storage, read> xhat_in: array<f32>;
@group(0) @binding(6) var<storage, read> part_in: array<f32>;
@group(0) @binding(7) var<storage, read> stats_in: array<f32>;
@group(0) @binding(8) var<storage, read> dgamma_in: array<f32>;
@group(0) @binding(9) var<storage, read> dbeta_in: array<f32>;
@group(0) @binding(10) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(11) var<storage, read_write> running_var: array<f32>;
@group(0) @binding(12) var<storage, read_write> part_out: array<f32>;
@group(0) @binding(13) var<storage, read_write> stats_out: array<f32>;
@group(0) @binding(14) var<storage, read_write> out: array<f32>;
@group(0) @binding(15) var<storage, read_write> xhat_out: array<f32>;
@group(0) @binding(16) var<storage, read_write> dx: array<f32>;
@group(0) @binding(17) var<storage, read_write> dgamma_out: array<f32>;
@group(0) @binding(18) var<storage, read_write> dbeta_out: array<f32>;

var<workgroup> red_a: array<f32, RWG>;
var<workgroup> red_b: array<f32, RWG>;
var<workgroup> red_n: array<u32, RWG>;

// Flat index of sample j of channel c.
fn at(c: u32, j: u32) -> u32 {
    let o = j / p.inner;
    return (o * p.c + c) * p.inner + (j - o * p.inner);
}

// Channel of flat element i.
fn channel(i: u32) -> u32 {
    return (i / p.inner) % p.c;
}

// Tree sums of red_a and red_b; every invocation gets the totals. Called by
// the whole workgroup in uniform control flow. The closing barrier lets the
// caller overwrite red_a/red_b after everyone has read slot 0.
fn tree_sum(lid: u32) -> vec2<f32> {
    for (var s = RWG / 2u; s > 0u; s >>= 1u) {
        if (lid < s) {
            red_a[lid] += red_a[lid + s];
            red_b[lid] += red_b[lid + s];
        }
        workgroupBarrier();
    }
    let r = vec2<f32>(red_a[0], red_b[0]);
    workgroupBarrier();
    return r;
}

// Merges (na, ma, qa) and (nb, mb, qb): counts, means and sums of squared
// deviations of two disjoint sets. An empty side returns the other exactly,
// so empty slots of the tree do not perturb the result (a batch of one
// keeps variance exactly 0 and batchnorm outputs exactly beta).
fn chan(na: u32, ma: f32, qa: f32, nb: u32, mb: f32, qb: f32) -> vec2<f32> {
    if (nb == 0u) {
        return vec2<f32>(ma, qa);
    }
    if (na == 0u) {
        return vec2<f32>(mb, qb);
    }
    let fb = f32(nb) / f32(na + nb);
    let delta = mb - ma;
    return vec2<f32>(ma + delta * fb, qa + qb + delta * delta * f32(na) * fb);
}

// Partial statistics of chunk k of channel c: part_out[2w] = chunk mean,
// part_out[2w+1] = sum of squared deviations from it, w = c*chunks + k.
@compute @workgroup_size(RWG)
fn bn_stats_partial(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let w = wid.x + wid.y * nwg.x;
    if (w >= p.c * p.chunks) {
        return;
    }
    let c = w / p.chunks;
    let start = (w % p.chunks) * p.chunk_len;
    let end = min(start + p.chunk_len, p.m);
    var s = 0.0;
    for (var j = start + lid; j < end; j += RWG) {
        s += x[at(c, j)];
    }
    red_a[lid] = s;
    red_b[lid] = 0.0;
    workgroupBarrier();
    let mean = tree_sum(lid).x / f32(end - start);
    var q = 0.0;
    for (var j = start + lid; j < end; j += RWG) {
        let e = x[at(c, j)] - mean;
        q += e * e;
    }
    red_a[lid] = q;
    workgroupBarrier();
    let m2 = tree_sum(lid).x;
    if (lid == 0u) {
        part_out[2u * w] = mean;
        part_out[2u * w + 1u] = m2;
    }
}

// One workgroup per channel: merges the chunks' (count, mean, M2), writes
// the channel's stats and moves the running statistics (train mode only).
@compute @workgroup_size(RWG)
fn bn_stats_combine(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let c = wid.x + wid.y * nwg.x;
    if (c >= p.c) {
        return;
    }
    var n = 0u;
    var acc = vec2<f32>(0.0, 0.0);
    for (var k = lid; k < p.chunks; k += RWG) {
        let nb = min(p.chunk_len, p.m - k * p.chunk_len);
        let i = 2u * (c * p.chunks + k);
        acc = chan(n, acc.x, acc.y, nb, part_in[i], part_in[i + 1u]);
        n += nb;
    }
    red_n[lid] = n;
    red_a[lid] = acc.x;
    red_b[lid] = acc.y;
    workgroupBarrier();
    for (var s = RWG / 2u; s > 0u; s >>= 1u) {
        if (lid < s) {
            let r = chan(red_n[lid], red_a[lid], red_b[lid], red_n[lid + s], red_a[lid + s], red_b[lid + s]);
            red_n[lid] += red_n[lid + s];
            red_a[lid] = r.x;
            red_b[lid] = r.y;
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        let mean = red_a[0];
        let v = red_b[0] / f32(p.m);
        let istd = inverseSqrt(v + p.eps);
        stats_out[c] = mean;
        stats_out[p.c + c] = v;
        stats_out[2u * p.c + c] = istd;
        stats_out[3u * p.c + c] = gamma[c] * istd;
        running_mean[c] = p.momentum * running_mean[c] + p.one_minus_m * mean;
        running_var[c] = p.momentum * running_var[c] + p.one_minus_m * v;
    }
}

// Test mode: the stats come from the running statistics, which stay as
// they are.
@compute @workgroup_size(WG)
fn bn_stats_running(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let c = gid.x + gid.y * nwg.x * WG;
    if (c >= p.c) {
        return;
    }
    let v = running_var[c];
    let istd = inverseSqrt(v + p.eps);
    stats_out[c] = running_mean[c];
    stats_out[p.c + c] = v;
    stats_out[2u * p.c + c] = istd;
    stats_out[3u * p.c + c] = gamma[c] * istd;
}

// xhat = (x - mean) / sqrt(var + eps); out = gamma * xhat + beta.
@compute @workgroup_size(WG)
fn bn_normalize(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WG;
    if (i >= p.n) {
        return;
    }
    let c = channel(i);
    let xh = (x[i] - stats_in[c]) * stats_in[2u * p.c + c];
    xhat_out[i] = xh;
    out[i] = gamma[c] * xh + beta[c];
}

// Partial gradient sums of chunk k of channel c: part_out[2w] = sum dout,
// part_out[2w+1] = sum dout*xhat.
@compute @workgroup_size(RWG)
fn bn_grad_partial(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let w = wid.x + wid.y * nwg.x;
    if (w >= p.c * p.chunks) {
        return;
    }
    let c = w / p.chunks;
    let start = (w % p.chunks) * p.chunk_len;
    let end = min(start + p.chunk_len, p.m);
    var sg = 0.0;
    var sgx = 0.0;
    for (var j = start + lid; j < end; j += RWG) {
        let i = at(c, j);
        let g = dout[i];
        sg += g;
        sgx += g * xhat_in[i];
    }
    red_a[lid] = sg;
    red_b[lid] = sgx;
    workgroupBarrier();
    let r = tree_sum(lid);
    if (lid == 0u) {
        part_out[2u * w] = r.x;
        part_out[2u * w + 1u] = r.y;
    }
}

// One workgroup per channel: dbeta = sum dout, dgamma = sum dout*xhat.
@compute @workgroup_size(RWG)
fn bn_grad_combine(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let c = wid.x + wid.y * nwg.x;
    if (c >= p.c) {
        return;
    }
    var sg = 0.0;
    var sgx = 0.0;
    for (var k = lid; k < p.chunks; k += RWG) {
        let i = 2u * (c * p.chunks + k);
        sg += part_in[i];
        sgx += part_in[i + 1u];
    }
    red_a[lid] = sg;
    red_b[lid] = sgx;
    workgroupBarrier();
    let r = tree_sum(lid);
    if (lid == 0u) {
        dbeta_out[c] = r.x;
        dgamma_out[c] = r.y;
    }
}

// Train mode, the closed form:
//   dx = gamma*istd/m * (m*dout - sum(dout) - xhat*sum(dout*xhat)).
// Test mode the statistics are constants: dx = dout * gamma*istd.
@compute @workgroup_size(WG)
fn bn_dx(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WG;
    if (i >= p.n) {
        return;
    }
    let c = channel(i);
    let scale = stats_in[3u * p.c + c];
    if (p.train == 1u) {
        let mf = f32(p.m);
        dx[i] = scale / mf * (mf * dout[i] - dbeta_in[c] - xhat_in[i] * dgamma_in[c]);
    } else {
        dx[i] = dout[i] * scale;
    }
}
