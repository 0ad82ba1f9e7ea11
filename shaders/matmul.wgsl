// C (M, N) = op(A) op(B), row-major f32.
// op(A) is (M, K): A is stored (M, K), or (K, M) when TRANS_A.
// op(B) is (K, N): B is stored (K, N), or (N, K) when TRANS_B.
// The transposed forms give the affine backward pass without a transpose
// kernel: dW = X^T dY (TRANS_A), dX = dY W^T (TRANS_B).
//
// The register-tiled kernel for real GPUs (Tiled128) is in matmul_vec4.wgsl;
// the two here stay as the oracle and the teaching version.
//
// Constants prepended by core/gpu per pipeline: TRANS_A: bool, TRANS_B: bool.
// Bindings: 0 params, 1 A, 2 B, 3 C.

struct Params {
    m: u32,
    n: u32,
    k: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

fn a_at(row: u32, kk: u32) -> f32 {
    if (TRANS_A) {
        return a[kk * p.m + row];
    }
    return a[row * p.k + kk];
}

fn b_at(kk: u32, col: u32) -> f32 {
    if (TRANS_B) {
        return b[col * p.k + kk];
    }
    return b[kk * p.n + col];
}

// Naive: one invocation per output element, every operand read from global
// memory. Kept as the readable oracle for the tiled kernel and as the
// baseline its benchmark is measured against. Grid: (ceil(N/16), ceil(M/16)).
@compute @workgroup_size(16, 16)
fn matmul_naive(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row = gid.y;
    let col = gid.x;
    if (row >= p.m || col >= p.n) {
        return;
    }
    var s = 0.0;
    for (var kk = 0u; kk < p.k; kk++) {
        s += a_at(row, kk) * b_at(kk, col);
    }
    c[row * p.n + col] = s;
}

// Tiled: a 16x16 workgroup computes a 64x64 block of C. Each step stages a
// 64x16 slab of op(A) and a 16x64 slab of op(B) in workgroup memory (each
// global value is then read once per workgroup instead of 64 times), and each
// invocation accumulates a 4x4 register tile, so one shared-memory load feeds
// four multiply-adds. Rows of an invocation's tile are ty + 16i and columns
// tx + 16j: neighbouring invocations touch neighbouring addresses both in the
// shared tiles and in the final store.
// Grid: (ceil(N/64), ceil(M/64)).
const TILE_M: u32 = 64u;
const TILE_N: u32 = 64u;
const TILE_K: u32 = 16u;

var<workgroup> tile_a: array<f32, 1024>; // [TILE_K][TILE_M]
var<workgroup> tile_b: array<f32, 1024>; // [TILE_K][TILE_N]

@compute @workgroup_size(16, 16)
fn matmul_tiled(@builtin(workgroup_id) wid: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>,
                @builtin(local_invocation_index) li: u32) {
    let row0 = wid.y * TILE_M;
    let col0 = wid.x * TILE_N;
    var acc: array<f32, 16>;
    for (var k0 = 0u; k0 < p.k; k0 += TILE_K) {
        // 1024 values per slab, 256 invocations: 4 loads each. The index
        // split follows the stored layout so that consecutive invocations
        // read consecutive global addresses.
        for (var r = 0u; r < 4u; r++) {
            let e = li + r * 256u;
            var am: u32;
            var ak: u32;
            if (TRANS_A) {
                am = e % TILE_M;
                ak = e / TILE_M;
            } else {
                ak = e % TILE_K;
                am = e / TILE_K;
            }
            var av = 0.0;
            if (row0 + am < p.m && k0 + ak < p.k) {
                av = a_at(row0 + am, k0 + ak);
            }
            tile_a[ak * TILE_M + am] = av;

            var bn: u32;
            var bk: u32;
            if (TRANS_B) {
                bk = e % TILE_K;
                bn = e / TILE_K;
            } else {
                bn = e % TILE_N;
                bk = e / TILE_N;
            }
            var bv = 0.0;
            if (k0 + bk < p.k && col0 + bn < p.n) {
                bv = b_at(k0 + bk, col0 + bn);
            }
            tile_b[bk * TILE_N + bn] = bv;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TILE_K; kk++) {
            var ra: array<f32, 4>;
            var rb: array<f32, 4>;
            for (var i = 0u; i < 4u; i++) {
                ra[i] = tile_a[kk * TILE_M + lid.y + 16u * i];
                rb[i] = tile_b[kk * TILE_N + lid.x + 16u * i];
            }
            for (var i = 0u; i < 4u; i++) {
                for (var j = 0u; j < 4u; j++) {
                    acc[i * 4u + j] += ra[i] * rb[j];
                }
            }
        }
        workgroupBarrier();
    }
    for (var i = 0u; i < 4u; i++) {
        let row = row0 + lid.y + 16u * i;
        if (row >= p.m) {
            continue;
        }
        for (var j = 0u; j < 4u; j++) {
            let col = col0 + lid.x + 16u * j;
            if (col < p.n) {
                c[row * p.n + col] = acc[i * 4u + j];
            }
        }
    }
}
