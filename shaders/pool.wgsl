// Max-pool over NCHW, any window (ph x pw) and stride, no padding; the
// output is (N, C, hout, wout) with hout = 1 + (h - ph) / stride (floor).
//
// The argmax is stored per output as the offset inside its window,
// r*pw + q for window row r and column q, held exactly in an f32 (the Go
// side refuses windows of 2^24 elements or more). Ties keep the first
// maximum in row-major window order, as core/nn does (strict >).
//
// Backward gathers instead of scattering: each input element visits the
// few outputs whose window covers it and adds the dout of those whose
// argmax it is, in increasing output order. No two invocations write the
// same element, so no atomics are needed and the sum order is fixed.
// core/gpu prepends SPECIALISED, PH, PW and STRIDE. Specialised pipelines
// (one per pool shape) take the window and stride as compile-time
// constants: the window loops unroll and divisions by the stride become
// shifts or multiplies. The generic pipeline (SPECIALISED false) reads
// them from the uniform: the plain kernel, the tests' reference for the
// specialised ones.
// Bindings: 0 params, 1 x, 2 dout, 3 argmax (read), 4 out, 5 argmax, 6 dx.

const WG: u32 = 256u;

struct Params {
    h: u32,
    w: u32,
    hout: u32,
    wout: u32,
    ph: u32,     // read by the generic pipeline only
    pw: u32,
    stride: u32,
    n_out: u32, // N*C*hout*wout
    n_in: u32,  // N*C*h*w
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read> argmax_in: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> argmax_out: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;

fn pool_h() -> u32 {
    if (SPECIALISED) {
        return PH;
    }
    return p.ph;
}

fn pool_w() -> u32 {
    if (SPECIALISED) {
        return PW;
    }
    return p.pw;
}

fn pool_stride() -> u32 {
    if (SPECIALISED) {
        return STRIDE;
    }
    return p.stride;
}

@compute @workgroup_size(WG)
fn maxpool_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WG;
    if (i >= p.n_out) {
        return;
    }
    let ow = i % p.wout;
    let t = i / p.wout;
    let oh = t % p.hout;
    let plane = t / p.hout;
    let ph = pool_h();
    let pw = pool_w();
    let s = pool_stride();
    let base = plane * p.h * p.w + oh * s * p.w + ow * s;
    var best = x[base];
    var arg = 0u;
    for (var r = 0u; r < ph; r++) {
        let row = base + r * p.w;
        for (var q = 0u; q < pw; q++) {
            let v = x[row + q];
            if (v > best) {
                best = v;
                arg = r * pw + q;
            }
        }
    }
    out[i] = best;
    argmax_out[i] = f32(arg);
}

@compute @workgroup_size(WG)
fn maxpool_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WG;
    if (i >= p.n_in) {
        return;
    }
    let col = i % p.w;
    let t = i / p.w;
    let row = t % p.h;
    let plane = t / p.h;
    let ph = pool_h();
    let pw = pool_w();
    let s = pool_stride();
    // Outputs whose window covers (row, col): oh*s <= row <= oh*s + ph - 1.
    let oh_lo = select(0u, (row + s - ph) / s, row >= ph);
    let oh_hi = min(row / s, p.hout - 1u);
    let ow_lo = select(0u, (col + s - pw) / s, col >= pw);
    let ow_hi = min(col / s, p.wout - 1u);
    var acc = 0.0;
    for (var oh = oh_lo; oh <= oh_hi; oh++) {
        for (var ow = ow_lo; ow <= ow_hi; ow++) {
            let o = (plane * p.hout + oh) * p.wout + ow;
            let local = (row - oh * s) * pw + (col - ow * s);
            if (u32(argmax_in[o]) == local) {
                acc += dout[o];
            }
        }
    }
    dx[i] = acc;
}
