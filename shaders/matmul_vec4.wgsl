// C (M, N) = op(A) op(B), row-major f32: the register-tiled GEMM for real
// GPUs. Same contract as matmul.wgsl (which keeps the naive oracle and the
// 64x64 teaching kernel); it lives in its own file because A and B are bound
// here as array<vec4<f32>> and there as array<f32>, and one module cannot
// portably declare two variables at the same binding.
//
// Everything that differs between calls is a uniform flag, not a
// compile-time constant: a software adapter (SwiftShader in the browser)
// takes seconds to compile this kernel, so one pipeline serves every call.
// The branches on the flags are uniform and sit in the loads, which run
// once per 512 multiply-adds per invocation. Flags:
//   bit 0, vec_a: the contiguous dimension of stored A (K, or M with
//     trans_a) is a multiple of 4, so every 4-float group an invocation
//     loads is one aligned vec4, wholly inside the matrix or wholly outside;
//   bit 1, vec_b: likewise for B (N, or K with trans_b);
//   bit 2, trans_a: A is stored (K, M), as TRANS_A in matmul.wgsl;
//   bit 3, trans_b: B is stored (N, K).
// Without vec_*, the kernel loads the four floats one by one with a bounds
// check each, so any M, N, K works.
// Bindings: 0 params, 1 A, 2 B, 3 C. core/gpu binds A and B with their size
// rounded up to 16 bytes (inside the pooled buffer) so the last, partial vec4
// is addressable; the floats past the tensor are never used.

struct Params {
    m: u32,
    n: u32,
    k: u32,
    flags: u32, // bit 0 vec_a, 1 vec_b, 2 trans_a, 3 trans_b
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

// Tiled128: a 16x16 workgroup computes a 128x128 block of C, each invocation
// an 8x8 register tile: rows ty*4 + {0..3} and 64 + ty*4 + {0..3}, columns
// tx*4 + {0..3} and 64 + tx*4 + {0..3}. That split puts each invocation's
// operands in two vec4s per matrix per k, so the inner loop does 4 vec4 reads
// of workgroup memory per 64 multiply-adds (the 64x64 kernel: 8 scalar reads
// per 16). Within a row of invocations, tx reads 16 consecutive vec4s of the
// B slab (distinct banks) and one shared vec4 of the A slab (a broadcast).
//
// K advances 8 at a time through two slab buffers: while the invocations
// multiply slab t from workgroup memory, they have already fetched slab t+1
// from global memory into registers, and write it to the other buffer after
// the multiply, so one barrier per step suffices: no invocation writes a
// buffer until everyone has passed the barrier that ended its last use.
// Each slab of op(A) is 128x8 and of op(B) 8x128: 256 vec4s each, one per
// invocation. Both are stored k-major, [k][128], as vec4s along M or N.
// Workgroup memory: 2 buffers x 2 slabs x 4 KiB = 16 KiB, WebGPU's minimum.
// Grid: (ceil(N/128), ceil(M/128)).
const BM: u32 = 128u;
const BN: u32 = 128u;
const BK: u32 = 8u;

var<workgroup> slab_a: array<array<vec4<f32>, 32>, 16>; // [buffer*BK + k][m/4]
var<workgroup> slab_b: array<array<vec4<f32>, 32>, 16>; // [buffer*BK + k][n/4]

fn vec_a() -> bool { return (p.flags & 1u) != 0u; }
fn vec_b() -> bool { return (p.flags & 2u) != 0u; }
fn trans_a() -> bool { return (p.flags & 4u) != 0u; }
fn trans_b() -> bool { return (p.flags & 8u) != 0u; }

fn a_scalar(i: u32) -> f32 {
    return a[i >> 2u][i & 3u];
}

fn b_scalar(i: u32) -> f32 {
    return b[i >> 2u][i & 3u];
}

// The four floats of op(A) this invocation fetches for the slab at k0: with
// trans_a, A's row k0 + (li / 32) at columns row0 + 4 (li % 32) + {0..3};
// otherwise A's row row0 + li / 2 at columns k0 + 4 (li % 2) + {0..3}.
// Out-of-range floats are 0, so edge tiles multiply zeros.
fn fetch_a(row0: u32, k0: u32, li: u32) -> vec4<f32> {
    if (trans_a()) {
        let kk = k0 + (li >> 5u);
        let mm = row0 + (li & 31u) * 4u;
        if (kk >= p.k) {
            return vec4<f32>(0.0);
        }
        let base = kk * p.m + mm;
        if (vec_a()) {
            if (mm < p.m) {
                return a[base >> 2u];
            }
            return vec4<f32>(0.0);
        }
        var v = vec4<f32>(0.0);
        for (var j = 0u; j < 4u; j++) {
            if (mm + j < p.m) {
                v[j] = a_scalar(base + j);
            }
        }
        return v;
    }
    let mm = row0 + (li >> 1u);
    let kk = k0 + (li & 1u) * 4u;
    if (mm >= p.m) {
        return vec4<f32>(0.0);
    }
    let base = mm * p.k + kk;
    if (vec_a()) {
        if (kk < p.k) {
            return a[base >> 2u];
        }
        return vec4<f32>(0.0);
    }
    var v = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
        if (kk + j < p.k) {
            v[j] = a_scalar(base + j);
        }
    }
    return v;
}

// As fetch_a for op(B): without trans_b, B's row k0 + li / 32 at columns
// col0 + 4 (li % 32) + {0..3}; with it, B's row col0 + li / 2 at columns
// k0 + 4 (li % 2) + {0..3}.
fn fetch_b(col0: u32, k0: u32, li: u32) -> vec4<f32> {
    if (!trans_b()) {
        let kk = k0 + (li >> 5u);
        let nn = col0 + (li & 31u) * 4u;
        if (kk >= p.k) {
            return vec4<f32>(0.0);
        }
        let base = kk * p.n + nn;
        if (vec_b()) {
            if (nn < p.n) {
                return b[base >> 2u];
            }
            return vec4<f32>(0.0);
        }
        var v = vec4<f32>(0.0);
        for (var j = 0u; j < 4u; j++) {
            if (nn + j < p.n) {
                v[j] = b_scalar(base + j);
            }
        }
        return v;
    }
    let nn = col0 + (li >> 1u);
    let kk = k0 + (li & 1u) * 4u;
    if (nn >= p.n) {
        return vec4<f32>(0.0);
    }
    let base = nn * p.k + kk;
    if (vec_b()) {
        if (kk < p.k) {
            return b[base >> 2u];
        }
        return vec4<f32>(0.0);
    }
    var v = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
        if (kk + j < p.k) {
            v[j] = b_scalar(base + j);
        }
    }
    return v;
}

// Stores fetched values into slab buffer buf. A slab row along the stored
// contiguous dimension lands as one vec4; a k-run (A untransposed, B
// transposed) is scattered to four k rows, one component each.
fn stash_a(buf: u32, li: u32, v: vec4<f32>) {
    if (trans_a()) {
        slab_a[buf * BK + (li >> 5u)][li & 31u] = v;
    } else {
        let mm = li >> 1u;
        let kk = buf * BK + (li & 1u) * 4u;
        for (var j = 0u; j < 4u; j++) {
            slab_a[kk + j][mm >> 2u][mm & 3u] = v[j];
        }
    }
}

fn stash_b(buf: u32, li: u32, v: vec4<f32>) {
    if (!trans_b()) {
        slab_b[buf * BK + (li >> 5u)][li & 31u] = v;
    } else {
        let nn = li >> 1u;
        let kk = buf * BK + (li & 1u) * 4u;
        for (var j = 0u; j < 4u; j++) {
            slab_b[kk + j][nn >> 2u][nn & 3u] = v[j];
        }
    }
}

fn store_row(row: u32, col0: u32, v0: vec4<f32>, v1: vec4<f32>) {
    if (row >= p.m) {
        return;
    }
    let base = row * p.n;
    for (var j = 0u; j < 4u; j++) {
        if (col0 + j < p.n) {
            c[base + col0 + j] = v0[j];
        }
        if (col0 + 64u + j < p.n) {
            c[base + col0 + 64u + j] = v1[j];
        }
    }
}

@compute @workgroup_size(16, 16)
fn matmul_tiled128(@builtin(workgroup_id) wid: vec3<u32>,
                   @builtin(local_invocation_id) lid: vec3<u32>,
                   @builtin(local_invocation_index) li: u32) {
    let row0 = wid.y * BM;
    let col0 = wid.x * BN;
    let tx = lid.x;
    let ty = lid.y;
    // Accumulators: c<r><h> is row r of the register tile (r < 4: rows
    // ty*4 + r; r >= 4: 64 + ty*4 + r - 4), columns of half h.
    var c00 = vec4<f32>(0.0); var c01 = vec4<f32>(0.0);
    var c10 = vec4<f32>(0.0); var c11 = vec4<f32>(0.0);
    var c20 = vec4<f32>(0.0); var c21 = vec4<f32>(0.0);
    var c30 = vec4<f32>(0.0); var c31 = vec4<f32>(0.0);
    var c40 = vec4<f32>(0.0); var c41 = vec4<f32>(0.0);
    var c50 = vec4<f32>(0.0); var c51 = vec4<f32>(0.0);
    var c60 = vec4<f32>(0.0); var c61 = vec4<f32>(0.0);
    var c70 = vec4<f32>(0.0); var c71 = vec4<f32>(0.0);

    let steps = (p.k + BK - 1u) / BK;
    stash_a(0u, li, fetch_a(row0, 0u, li));
    stash_b(0u, li, fetch_b(col0, 0u, li));
    workgroupBarrier();
    for (var s = 0u; s < steps; s++) {
        let cur = s & 1u;
        let more = s + 1u < steps;
        var next_a = vec4<f32>(0.0);
        var next_b = vec4<f32>(0.0);
        if (more) {
            next_a = fetch_a(row0, (s + 1u) * BK, li);
            next_b = fetch_b(col0, (s + 1u) * BK, li);
        }
        for (var kk = 0u; kk < BK; kk++) {
            let r = cur * BK + kk;
            let a0 = slab_a[r][ty];
            let a1 = slab_a[r][ty + 16u];
            let b0 = slab_b[r][tx];
            let b1 = slab_b[r][tx + 16u];
            c00 += a0.x * b0; c01 += a0.x * b1;
            c10 += a0.y * b0; c11 += a0.y * b1;
            c20 += a0.z * b0; c21 += a0.z * b1;
            c30 += a0.w * b0; c31 += a0.w * b1;
            c40 += a1.x * b0; c41 += a1.x * b1;
            c50 += a1.y * b0; c51 += a1.y * b1;
            c60 += a1.z * b0; c61 += a1.z * b1;
            c70 += a1.w * b0; c71 += a1.w * b1;
        }
        if (more) {
            stash_a(cur ^ 1u, li, next_a);
            stash_b(cur ^ 1u, li, next_b);
        }
        workgroupBarrier();
    }

    let r0 = row0 + ty * 4u;
    let r1 = row0 + 64u + ty * 4u;
    let cc = col0 + tx * 4u;
    store_row(r0, cc, c00, c01);
    store_row(r0 + 1u, cc, c10, c11);
    store_row(r0 + 2u, cc, c20, c21);
    store_row(r0 + 3u, cc, c30, c31);
    store_row(r1, cc, c40, c41);
    store_row(r1 + 1u, cc, c50, c51);
    store_row(r1 + 2u, cc, c60, c61);
    store_row(r1 + 3u, cc, c70, c71);
}
