// Inverted dropout with core/rng's Philox4x32-10, reproduced operation for
// operation so the GPU keeps exactly the units the CPU keeps.
//
// Mask index m = i / group: group 1 is ordinary dropout (one draw per
// element), group H*W is spatial dropout (one draw per (n, c) channel, mask
// index n*C + c). The draw for mask index m is word m of stream
// (seed, step, layer); the unit is kept iff word >= threshold, where the
// threshold is rng.KeepThreshold(p), computed once on the CPU.
// Bindings: 0 params, 1 x or dout, 2 the step (forward), 3 out, 4 mask out
// (forward), 5 mask (backward). The step changes every training step, so it
// comes in a small storage buffer written per call: in the uniform block it
// would make a new cached uniform buffer every step.

const WG: u32 = 256u;

struct Params {
    n: u32,         // elements of x
    group: u32,     // elements sharing one mask entry
    threshold: u32,
    seed_lo: u32,
    seed_hi: u32,
    stream: u32,    // the layer id
    scale: f32,     // 1 / (1 - p), rounded to f32 on the CPU
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> step: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> mask_out: array<f32>;
@group(0) @binding(5) var<storage, read> mask_in: array<f32>;

// 32x32 -> 64-bit product from 16-bit halves (WGSL has no u64); identical to
// rng.MulHiLo. Returns (hi, lo).
fn mul_hi_lo(a: u32, b: u32) -> vec2<u32> {
    let a_lo = a & 0xFFFFu;
    let a_hi = a >> 16u;
    let b_lo = b & 0xFFFFu;
    let b_hi = b >> 16u;
    let ll = a_lo * b_lo;
    let lh = a_lo * b_hi;
    let hl = a_hi * b_lo;
    let hh = a_hi * b_hi;
    let mid = (ll >> 16u) + (lh & 0xFFFFu) + (hl & 0xFFFFu);
    let hi = hh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
    return vec2<u32>(hi, a * b);
}

fn philox4x32_10(ctr: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
    var c = ctr;
    var k = key;
    for (var r = 0u; r < 10u; r++) {
        if (r > 0u) {
            k.x += 0x9E3779B9u;
            k.y += 0xBB67AE85u;
        }
        let p0 = mul_hi_lo(0xD2511F53u, c.x);
        let p1 = mul_hi_lo(0xCD9E8D57u, c.z);
        c = vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
    }
    return c;
}

// rng.Uint32(seed, step, stream, index). It reads no binding, so
// core/exercise can lift the helpers above into its dropout exercise.
fn philox_word(seed: vec2<u32>, step: u32, stream: u32, index: u32) -> u32 {
    let w = philox4x32_10(vec4<u32>(index >> 2u, step, stream, 0u), seed);
    return w[index & 3u];
}

@compute @workgroup_size(WG)
fn dropout_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WG;
    if (i >= p.n) {
        return;
    }
    let m = i / p.group;
    let keep = philox_word(vec2<u32>(p.seed_lo, p.seed_hi), step[0], p.stream, m) >= p.threshold;
    let s = select(0.0, p.scale, keep);
    out[i] = x[i] * s;
    // Spatial dropout: the first element of each channel writes its entry.
    if (i % p.group == 0u) {
        mask_out[m] = s;
    }
}

// dx = dout * mask, with the mask holding 0 or 1/(1-p).
@compute @workgroup_size(WG)
fn dropout_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WG;
    if (i >= p.n) {
        return;
    }
    out[i] = x[i] * mask_in[i / p.group];
}
