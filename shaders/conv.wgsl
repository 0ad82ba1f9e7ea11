// 2-D convolution, NCHW f32, forward and both backward passes.
//
// x (N, C, H, W), w (F, C/G, KH, KW), out (N, F, OH, OW) with
// OH = 1 + (H + 2 pad - KH) / stride (floored). Filter f belongs to group
// f / FG and sees input channels g*CG .. g*CG + CG - 1 (CG = C/G, FG = F/G).
//
// Three families of kernels:
//   - *_naive: one invocation per output element, the definition written out.
//     They are the readable oracle for the tiled kernels and their
//     benchmark baseline.
//   - direct kernels for ConvTiled where a GEMM would be mostly padding (one
//     input channel per group, as in depthwise, or 3 input channels in dx):
//     conv_fwd_naive itself, conv_bwd_data_direct (the naive dx without a
//     division per tap) and conv_bwd_weights_rows (a workgroup per weight).
//   - *_tiled: implicit GEMMs. The im2col matrix is never materialised: each
//     slab of A and B is gathered from x, w or dout straight into workgroup
//     memory, with zero for taps that fall into the padding, and each
//     invocation accumulates a register tile of outputs, as matmul.wgsl.
//
// Bindings (binding 0 is always Params; numbers an entry point does not use
// are left out of its layout):
//   forward          1 x,    2 w, 3 bias, 4 out
//   backward data    1 dout, 2 w,         4 dx
//   backward weights 1 dout, 2 x,         4 dw (or split-K partials)
//   bias / reduce    1 dout or partials,   4 db or dw
// Without a bias the forward pass binds w in slot 3 too (has_bias = 0, never
// read): WGSL counts any mention of a binding as a use, so a kernel that may
// read the bias needs something bound there.

const WG: u32 = 256u;

struct Params {
    n: u32,
    c: u32,
    h: u32,
    w: u32,
    f: u32,
    kh: u32,
    kw: u32,
    stride: u32,
    pad: u32,
    oh: u32,
    ow: u32,
    cg: u32,
    fg: u32,
    groups: u32,
    has_bias: u32,
    total: u32,  // elements (naive, reduce) or workgroup tiles (tiled)
    splits: u32, // backward weights: partial sums over the batch
    chunk: u32,  // backward weights: reduction length per split
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> in_a: array<f32>;
@group(0) @binding(2) var<storage, read> in_b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

fn in_range(v: i32, n: u32) -> bool {
    return v >= 0 && v < i32(n);
}

// n / d for d >= 1, with rd = 1.0 / f32(d) computed once by the caller.
// WGSL allows 2.5 ulp of error in 1.0 / x and correct rounding in x * y,
// so f32(n) * rd is within a relative 2^-21 of n/d (f32(n) is exact), that
// is, within 0.5 for n < 2^20: the truncated quotient is off by at most
// one, which the remainder test corrects. Larger n take the slow path.
fn udiv(n: u32, d: u32, rd: f32) -> u32 {
    if (n >= 1048576u) {
        return n / d;
    }
    var q = u32(f32(n) * rd);
    let r = i32(n) - i32(q * d);
    if (r < 0) {
        q -= 1u;
    } else if (r >= i32(d)) {
        q += 1u;
    }
    return q;
}

// ---------------------------------------------------------------------------
// Naive kernels. Grid: 1-D over p.total elements, folded into 2-D.

// out[n, f, oh, ow] = bias[f] + sum over (c, kh, kw) of w * x.
@compute @workgroup_size(WG)
fn conv_fwd_naive(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WG;
    if (i >= p.total) {
        return;
    }
    let ow = i % p.ow;
    var t = i / p.ow;
    let oh = t % p.oh;
    t = t / p.oh;
    let f = t % p.f;
    let n = t / p.f;
    let c0 = (f / p.fg) * p.cg;
    let ih0 = i32(oh * p.stride) - i32(p.pad);
    let iw0 = i32(ow * p.stride) - i32(p.pad);
    var s = 0.0;
    if (p.has_bias != 0u) {
        s = bias[f];
    }
    for (var c = 0u; c < p.cg; c++) {
        let xrow = (n * p.c + c0 + c) * p.h;
        let wrow = (f * p.cg + c) * p.kh;
        for (var kh = 0u; kh < p.kh; kh++) {
            let ih = ih0 + i32(kh);
            if (!in_range(ih, p.h)) {
                continue;
            }
            for (var kw = 0u; kw < p.kw; kw++) {
                let iw = iw0 + i32(kw);
                if (!in_range(iw, p.w)) {
                    continue;
                }
                s += in_b[(wrow + kh) * p.kw + kw] * in_a[(xrow + u32(ih)) * p.w + u32(iw)];
            }
        }
    }
    out[i] = s;
}

// dx[n, c, ih, iw] = sum over the filters f of c's group and the taps
// (kh, kw) whose window covers (ih, iw): oh * stride = ih + pad - kh exactly.
@compute @workgroup_size(WG)
fn conv_bwd_data_naive(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WG;
    if (i >= p.total) {
        return;
    }
    let iw = i % p.w;
    var t = i / p.w;
    let ih = t % p.h;
    t = t / p.h;
    let c = t % p.c;
    let n = t / p.c;
    let g = c / p.cg;
    let cl = c % p.cg;
    let s = i32(p.stride);
    var acc = 0.0;
    for (var fl = 0u; fl < p.fg; fl++) {
        let f = g * p.fg + fl;
        let drow = (n * p.f + f) * p.oh;
        let wrow = (f * p.cg + cl) * p.kh;
        for (var kh = 0u; kh < p.kh; kh++) {
            let th = i32(ih + p.pad) - i32(kh);
            if (th < 0 || th % s != 0 || th / s >= i32(p.oh)) {
                continue;
            }
            let oh = u32(th / s);
            for (var kw = 0u; kw < p.kw; kw++) {
                let tw = i32(iw + p.pad) - i32(kw);
                if (tw < 0 || tw % s != 0 || tw / s >= i32(p.ow)) {
                    continue;
                }
                acc += in_b[(wrow + kh) * p.kw + kw] * in_a[(drow + oh) * p.ow + u32(tw / s)];
            }
        }
    }
    out[i] = acc;
}

// dx as conv_bwd_data_naive, without a division per tap: only the taps
// kh = kh0, kh0 + stride, ... with kh0 = (ih + pad) mod stride reach ih,
// from oh = (ih + pad - kh0) / stride, oh - 1, ... So one division per axis
// finds the first tap and the loops step from there. ConvTiled's dx where
// the GEMM would be mostly padding (few channels per group).
@compute @workgroup_size(WG)
fn conv_bwd_data_direct(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WG;
    if (i >= p.total) {
        return;
    }
    let iw = i % p.w;
    var t = i / p.w;
    let ih = t % p.h;
    t = t / p.h;
    let c = t % p.c;
    let n = t / p.c;
    let g = c / p.cg;
    let cl = c % p.cg;
    let s = p.stride;
    let kh0 = (ih + p.pad) % s;
    let kw0 = (iw + p.pad) % s;
    // i32: the window's last output row may lie past the image (oh < 0 or
    // >= OH are skipped).
    let oh0 = i32((ih + p.pad - kh0) / s);
    let ow0 = i32((iw + p.pad - kw0) / s);
    var acc = 0.0;
    for (var fl = 0u; fl < p.fg; fl++) {
        let f = g * p.fg + fl;
        let drow = (n * p.f + f) * p.oh;
        let wrow = (f * p.cg + cl) * p.kh;
        var oh = oh0;
        for (var kh = kh0; kh < p.kh; kh += s) {
            if (oh >= 0 && oh < i32(p.oh)) {
                var ow = ow0;
                for (var kw = kw0; kw < p.kw; kw += s) {
                    if (ow >= 0 && ow < i32(p.ow)) {
                        acc += in_b[(wrow + kh) * p.kw + kw] * in_a[(drow + u32(oh)) * p.ow + u32(ow)];
                    }
                    ow -= 1;
                }
            }
            oh -= 1;
        }
    }
    out[i] = acc;
}

// dw[f, c, kh, kw] = sum over (n, oh, ow) of dout[n, f, oh, ow] times the x
// value that tap multiplied.
@compute @workgroup_size(WG)
fn conv_bwd_weights_naive(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WG;
    if (i >= p.total) {
        return;
    }
    let kw = i % p.kw;
    var t = i / p.kw;
    let kh = t % p.kh;
    t = t / p.kh;
    let cl = t % p.cg;
    let f = t / p.cg;
    let c = (f / p.fg) * p.cg + cl;
    var acc = 0.0;
    for (var n = 0u; n < p.n; n++) {
        let drow = (n * p.f + f) * p.oh;
        let xrow = (n * p.c + c) * p.h;
        for (var oh = 0u; oh < p.oh; oh++) {
            let ih = i32(oh * p.stride + kh) - i32(p.pad);
            if (!in_range(ih, p.h)) {
                continue;
            }
            for (var ow = 0u; ow < p.ow; ow++) {
                let iw = i32(ow * p.stride + kw) - i32(p.pad);
                if (!in_range(iw, p.w)) {
                    continue;
                }
                acc += in_a[(drow + oh) * p.ow + ow] * in_b[(xrow + u32(ih)) * p.w + u32(iw)];
            }
        }
    }
    out[i] = acc;
}

// ---------------------------------------------------------------------------
// Workgroup reductions: one workgroup per output value, 256 invocations
// striding over the batch and the output positions, then a tree sum in
// workgroup memory. Grid: 1-D over p.total workgroups, folded into 2-D.

var<workgroup> red: array<f32, WG>;

fn reduce_store(li: u32, v: f32, o: u32) {
    red[li] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if (li < s) {
            red[li] += red[li + s];
        }
        workgroupBarrier();
    }
    if (li == 0u) {
        out[o] = red[0];
    }
}

// db[f] = sum over (n, oh, ow) of dout[n, f, oh, ow].
@compute @workgroup_size(WG)
fn conv_bwd_bias(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) li: u32) {
    let f = wid.x + wid.y * nwg.x;
    if (f >= p.total) {
        return;
    }
    let ohw = p.oh * p.ow;
    let r_ohw = 1.0 / f32(ohw);
    var acc = 0.0;
    for (var r = li; r < p.n * ohw; r += WG) {
        let n = udiv(r, ohw, r_ohw);
        acc += in_a[(n * p.f + f) * ohw + r - n * ohw];
    }
    reduce_store(li, acc, f);
}

// dw[f, c, kh, kw] as conv_bwd_weights_naive, but with a workgroup per
// weight: the tiled path's kernel for CG = 1 (depthwise), where a GEMM would
// have one row per group and the naive kernel only F*KH*KW invocations for a
// reduction over the whole batch.
@compute @workgroup_size(WG)
fn conv_bwd_weights_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) li: u32) {
    let i = wid.x + wid.y * nwg.x;
    if (i >= p.total) {
        return;
    }
    let kw = i % p.kw;
    var t = i / p.kw;
    let kh = t % p.kh;
    t = t / p.kh;
    let cl = t % p.cg;
    let f = t / p.cg;
    let c = (f / p.fg) * p.cg + cl;
    let ohw = p.oh * p.ow;
    let r_ohw = 1.0 / f32(ohw);
    let r_ow = 1.0 / f32(p.ow);
    var acc = 0.0;
    for (var r = li; r < p.n * ohw; r += WG) {
        let n = udiv(r, ohw, r_ohw);
        let q = r - n * ohw;
        let oh = udiv(q, p.ow, r_ow);
        let ow = q - oh * p.ow;
        let ih = i32(oh * p.stride + kh) - i32(p.pad);
        let iw = i32(ow * p.stride + kw) - i32(p.pad);
        if (in_range(ih, p.h) && in_range(iw, p.w)) {
            acc += in_a[(n * p.f + f) * ohw + q] * in_b[((n * p.c + c) * p.h + u32(ih)) * p.w + u32(iw)];
        }
    }
    reduce_store(li, acc, i);
}

// dw = sum of the p.splits partial results that conv_bwd_weights_tiled left
// in in_a, one (F, CG, KH, KW) block after another; p.total = F*CG*KH*KW.
// Summed in a fixed order, so the result is deterministic.
@compute @workgroup_size(WG)
fn conv_split_reduce(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WG;
    if (i >= p.total) {
        return;
    }
    var acc = 0.0;
    for (var s = 0u; s < p.splits; s++) {
        acc += in_a[s * p.total + i];
    }
    out[i] = acc;
}

// ---------------------------------------------------------------------------
// Tiled implicit GEMMs. A workgroup of 256 invocations, WX x WY, computes a
// TM x TN block of C (rows, cols) = A (rows, K) B (K, cols); per K step it
// stages an A slab (TM x TK) and a B slab (TK x TN) in workgroup memory, and
// each invocation keeps a WM x WN tile of C in registers (see mma). The
// blocks are 64x128, 64x64, 32x128 and 32x64 on a 16x16 workgroup and
// 32x128 on a 32x8 one with TK = 16, and 32x256 (32x8), 64x256 (32x8) and
// 128x128 (16x16) with TK = 8 (their B slab at TK = 16 would pass WebGPU's
// 16 KiB of workgroup memory): core/gpu picks
// the one that pads the GEMM least for its cost (32 filters fill a 32-row
// block but half a 64-row one; the 3->32 layer's dw is 32 x 27).
//
// Loading: invocation li loads A at (row li/TK + (256/TK) r, k li%TK) and B
// at (k li/TN + B_STEP r, column li%TN), so neighbouring invocations read
// neighbouring columns (output or input positions: neighbouring addresses).
// An invocation's B column and A k-offset never change, so their index
// decompositions are done once, outside the K loop.
//
// Index arithmetic, not multiply-adds, is what costs in an implicit GEMM:
// every gathered value needs its k split into (channel, kh, kw), and u32
// division has no vector instruction on CPUs (lavapipe runs it lane by
// lane) and is a long sequence on GPUs. So the per-value splits use udiv
// (a float reciprocal and one correction), and the weight gradient walks
// its reduction index (n, oh, ow) incrementally instead of dividing.
// (Compiling the kernel size in as constants was the alternative; it made
// one pipeline per kernel shape and stride, too slow to build in the
// browser for a test suite of many shapes.)
//
// Grid: 1-D over p.total tiles, folded into 2-D (tile = wid.x + wid.y *
// nwg.x); the tile index is split into column tile, row tile, group (and
// stride phase or K split). Early returns depend on the workgroup only, so
// every barrier stays in uniform control flow.
//
// Constants prepended by core/gpu to every pipeline of this file (the
// arrays below are sized by them): TM: u32, TN: u32, TK: u32 (8 or 16),
// WX: u32 (the workgroup's width, 16 or 32).

const WY: u32 = 256u / WX;
const WM: u32 = TM / WY;
const WN: u32 = TN / WX;
const A_LOADS: u32 = TM * TK / 256u;
const A_STEP: u32 = 256u / TK;
const B_LOADS: u32 = TN * TK / 256u;
const B_STEP: u32 = 256u / TN;
// tile_a rows are padded by one vec4: invocations li..li+TK-1 store the TK
// k values of one GEMM row, one per tile_a row, which with a row stride of
// TM floats (a multiple of 32) would all hit the same memory bank; with
// TM + 4 they spread over 8 banks.
const A_STRIDE: u32 = TM / 4u + 1u; // in vec4s
// Array sizes must be single identifiers for wgpu-native's WGSL parser.
const A_SIZE: u32 = TK * A_STRIDE;
const B_SIZE: u32 = TK * TN / 4u;
const NH: u32 = WN / 4u;
const ACC_SIZE: u32 = WM * NH;
// An invocation's WM rows lie in AV vec4s of AW rows each (WM = 2: one
// vec4, half used; WM = 4 or 8: one or two whole vec4s).
const AV: u32 = (WM + 3u) / 4u;
const AW: u32 = WM / AV;

var<workgroup> tile_a: array<vec4<f32>, A_SIZE>; // [TK][A_STRIDE]
var<workgroup> tile_b: array<vec4<f32>, B_SIZE>; // [TK][TN / 4]

// acc += tile_a^T tile_b for this invocation's register tile: rows
// WM*ly + i (i < WM) and columns 4*WX*h + 4lx + {0..3} (h < NH). Each k
// then reads the invocation's A values as AV vec4s (shared by its whole row
// of invocations) and its B values as NH vec4s: AV + NH reads of workgroup
// memory per WM*WN multiply-adds (the scalar 4x4 layout of matmul_tiled
// needs 8 per 16). On a CPU adapter those reads are gathers, far dearer
// than the multiply-adds, so the bigger the register tile the better.
fn mma(acc: ptr<function, array<vec4<f32>, ACC_SIZE>>, lid: vec3<u32>) {
    // The tile lives in named variables for the K step: indexed through
    // the array, lavapipe kept it in memory and paid a load and a store
    // per multiply-add. Rows past WM and halves past NH are cut at compile
    // time (the conditions are constants; the % keeps every constant
    // index in bounds for the smaller tiles). Every block has WM <= 8 and
    // NH <= 2 (core/gpu's convTile list).
    var c00 = (*acc)[(0u * NH + 0u) % ACC_SIZE];
    var c01 = (*acc)[(0u * NH + 1u) % ACC_SIZE];
    var c10 = (*acc)[(1u * NH + 0u) % ACC_SIZE];
    var c11 = (*acc)[(1u * NH + 1u) % ACC_SIZE];
    var c20 = (*acc)[(2u * NH + 0u) % ACC_SIZE];
    var c21 = (*acc)[(2u * NH + 1u) % ACC_SIZE];
    var c30 = (*acc)[(3u * NH + 0u) % ACC_SIZE];
    var c31 = (*acc)[(3u * NH + 1u) % ACC_SIZE];
    var c40 = (*acc)[(4u * NH + 0u) % ACC_SIZE];
    var c41 = (*acc)[(4u * NH + 1u) % ACC_SIZE];
    var c50 = (*acc)[(5u * NH + 0u) % ACC_SIZE];
    var c51 = (*acc)[(5u * NH + 1u) % ACC_SIZE];
    var c60 = (*acc)[(6u * NH + 0u) % ACC_SIZE];
    var c61 = (*acc)[(6u * NH + 1u) % ACC_SIZE];
    var c70 = (*acc)[(7u * NH + 0u) % ACC_SIZE];
    var c71 = (*acc)[(7u * NH + 1u) % ACC_SIZE];
    let a0 = (WM * lid.y) % 4u;
    let abase = (WM * lid.y) / 4u;
    for (var kk = 0u; kk < TK; kk++) {
        let b0 = tile_b[kk * (TN / 4u) + lid.x];
        var b1 = vec4<f32>(0.0);
        if (NH > 1u) {
            b1 = tile_b[kk * (TN / 4u) + WX + lid.x];
        }
        let va0 = tile_a[kk * A_STRIDE + abase];
        var va1 = vec4<f32>(0.0);
        if (AV > 1u) {
            va1 = tile_a[kk * A_STRIDE + abase + 1u];
        }
        if (WM > 0u) {
            let x = va0[(a0 + 0u) % 4u];
            c00 += x * b0;
            if (NH > 1u) {
                c01 += x * b1;
            }
        }
        if (WM > 1u) {
            let x = va0[(a0 + 1u) % 4u];
            c10 += x * b0;
            if (NH > 1u) {
                c11 += x * b1;
            }
        }
        if (WM > 2u) {
            let x = va0[2u];
            c20 += x * b0;
            if (NH > 1u) {
                c21 += x * b1;
            }
        }
        if (WM > 3u) {
            let x = va0[3u];
            c30 += x * b0;
            if (NH > 1u) {
                c31 += x * b1;
            }
        }
        if (WM > 4u) {
            let x = va1[0u];
            c40 += x * b0;
            if (NH > 1u) {
                c41 += x * b1;
            }
        }
        if (WM > 5u) {
            let x = va1[1u];
            c50 += x * b0;
            if (NH > 1u) {
                c51 += x * b1;
            }
        }
        if (WM > 6u) {
            let x = va1[2u];
            c60 += x * b0;
            if (NH > 1u) {
                c61 += x * b1;
            }
        }
        if (WM > 7u) {
            let x = va1[3u];
            c70 += x * b0;
            if (NH > 1u) {
                c71 += x * b1;
            }
        }
    }
    if (WM > 0u) {
        (*acc)[(0u * NH + 0u) % ACC_SIZE] = c00;
    }
    if (WM > 0u && NH > 1u) {
        (*acc)[(0u * NH + 1u) % ACC_SIZE] = c01;
    }
    if (WM > 1u) {
        (*acc)[(1u * NH + 0u) % ACC_SIZE] = c10;
    }
    if (WM > 1u && NH > 1u) {
        (*acc)[(1u * NH + 1u) % ACC_SIZE] = c11;
    }
    if (WM > 2u) {
        (*acc)[(2u * NH + 0u) % ACC_SIZE] = c20;
    }
    if (WM > 2u && NH > 1u) {
        (*acc)[(2u * NH + 1u) % ACC_SIZE] = c21;
    }
    if (WM > 3u) {
        (*acc)[(3u * NH + 0u) % ACC_SIZE] = c30;
    }
    if (WM > 3u && NH > 1u) {
        (*acc)[(3u * NH + 1u) % ACC_SIZE] = c31;
    }
    if (WM > 4u) {
        (*acc)[(4u * NH + 0u) % ACC_SIZE] = c40;
    }
    if (WM > 4u && NH > 1u) {
        (*acc)[(4u * NH + 1u) % ACC_SIZE] = c41;
    }
    if (WM > 5u) {
        (*acc)[(5u * NH + 0u) % ACC_SIZE] = c50;
    }
    if (WM > 5u && NH > 1u) {
        (*acc)[(5u * NH + 1u) % ACC_SIZE] = c51;
    }
    if (WM > 6u) {
        (*acc)[(6u * NH + 0u) % ACC_SIZE] = c60;
    }
    if (WM > 6u && NH > 1u) {
        (*acc)[(6u * NH + 1u) % ACC_SIZE] = c61;
    }
    if (WM > 7u) {
        (*acc)[(7u * NH + 0u) % ACC_SIZE] = c70;
    }
    if (WM > 7u && NH > 1u) {
        (*acc)[(7u * NH + 1u) % ACC_SIZE] = c71;
    }
}

// The block column of this invocation's j-th register column (j < WN).
fn acc_col(j: u32, lx: u32) -> u32 {
    return 4u * WX * (j / 4u) + 4u * lx + j % 4u;
}

// tile_b[k][n] = v, in the vec4 layout.
fn put_b(k: u32, n: u32, v: f32) {
    tile_b[k * (TN / 4u) + n / 4u][n % 4u] = v;
}

// (c, h, w) with (h, w) in (nh, nw) advanced by B_STEP in the row-major
// order of k = (c * nh + h) * nw + w, without a division unless the step
// wraps past a whole row (B_STEP > nw) or a whole plane: u32 division has
// no vector instruction on CPUs, and the implicit GEMMs' B loads step k
// this way once per loaded value. Branches, not loops, so the steps add
// nothing to lavapipe's per-invocation loop budget.
fn step_k(c: u32, h: u32, w: u32, nh: u32, nw: u32) -> vec3<u32> {
    var cc = c;
    var hh = h;
    var ww = w + B_STEP;
    if (ww >= nw) {
        ww -= nw;
        hh += 1u;
        if (ww >= nw) {
            hh += ww / nw;
            ww = ww % nw;
        }
        if (hh >= nh) {
            hh -= nh;
            cc += 1u;
            if (hh >= nh) {
                cc += hh / nh;
                hh = hh % nh;
            }
        }
    }
    return vec3<u32>(cc, hh, ww);
}

// Forward: per group g, rows = the group's filters (FG), cols = output
// positions (n, oh, ow) over the batch, K = (c, kh, kw) over CG*KH*KW.
// A = w (contiguous in K), B = im2col(x) gathered with padding checks.
@compute @workgroup_size(WX, WY)
fn conv_fwd_tiled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_id) lid: vec3<u32>,
                  @builtin(local_invocation_index) li: u32) {
    let tile = wid.x + wid.y * nwg.x;
    if (tile >= p.total) {
        return;
    }
    let ohw = p.oh * p.ow;
    let cols = p.n * ohw;
    let col_tiles = (cols + TN - 1u) / TN;
    let row_tiles = (p.fg + TM - 1u) / TM;
    let col0 = (tile % col_tiles) * TN;
    let rest = tile / col_tiles;
    let row0 = (rest % row_tiles) * TM;
    let g = rest / row_tiles;
    let khw = p.kh * p.kw;
    let kdim = p.cg * khw;
    let hw = p.h * p.w;
    let r_khw = 1.0 / f32(khw);
    let r_kw = 1.0 / f32(p.kw);

    let ak = li % TK;
    let am0 = li / TK;
    let bn = li % TN;
    let bk0 = li / TN;
    let col = col0 + bn;
    let col_ok = col < cols;
    let bq = col % ohw;
    let ih0 = i32((bq / p.ow) * p.stride) - i32(p.pad);
    let iw0 = i32((bq % p.ow) * p.stride) - i32(p.pad);
    let xbase = ((col / ohw) * p.c + g * p.cg) * hw;
    let wbase = (g * p.fg + row0) * kdim;

    var acc: array<vec4<f32>, ACC_SIZE>;
    for (var k0 = 0u; k0 < kdim; k0 += TK) {
        for (var r = 0u; r < A_LOADS; r++) {
            let am = am0 + A_STEP * r;
            var av = 0.0;
            if (row0 + am < p.fg && k0 + ak < kdim) {
                av = in_b[wbase + am * kdim + k0 + ak];
            }
            tile_a[ak * A_STRIDE + am / 4u][am % 4u] = av;
        }
        // B's k runs k0 + bk0 + B_STEP r: split it once, then step
        // (ci, kh, kw) forward with carries (see step_k).
        let kb = k0 + bk0;
        var kc = udiv(kb, khw, r_khw);
        let kr = kb - kc * khw;
        var kh = udiv(kr, p.kw, r_kw);
        var kw = kr - kh * p.kw;
        for (var r = 0u; r < B_LOADS; r++) {
            let bk = bk0 + B_STEP * r;
            var bv = 0.0;
            let ih = ih0 + i32(kh);
            let iw = iw0 + i32(kw);
            if (col_ok && k0 + bk < kdim && in_range(ih, p.h) && in_range(iw, p.w)) {
                bv = in_a[xbase + kc * hw + u32(ih) * p.w + u32(iw)];
            }
            put_b(bk, bn, bv);
            let st = step_k(kc, kh, kw, p.kh, p.kw);
            kc = st.x;
            kh = st.y;
            kw = st.z;
        }
        workgroupBarrier();
        mma(&acc, lid);
        workgroupBarrier();
    }
    for (var i = 0u; i < WM; i++) {
        let fl = row0 + WM * lid.y + i;
        if (fl >= p.fg) {
            continue;
        }
        let f = g * p.fg + fl;
        var b = 0.0;
        if (p.has_bias != 0u) {
            b = bias[f];
        }
        for (var j = 0u; j < WN; j++) {
            let cc = col0 + acc_col(j, lid.x);
            if (cc < cols) {
                out[((cc / ohw) * p.f + f) * ohw + cc % ohw] = acc[i * NH + j / 4u][j % 4u] + b;
            }
        }
    }
}

// Backward data: the transposed convolution as a GEMM per group and per
// stride phase. Input positions (ih, iw) with ih = rh + stride*qh,
// iw = rw + stride*qw share one phase (rh, rw), and only the taps
// kh = kh0 + stride*j with kh0 = (rh + pad) mod stride reach them, from
// oh = qh + (rh + pad - kh0)/stride - j exactly. Splitting by phase keeps
// the K loop to the taps that can contribute, instead of testing stride^2
// times as many and discarding most. Each phase runs over nkh x nkw taps,
// the most any phase has (taps past the kernel, kh >= KH, are zero), so
// that every phase splits k the same way.
// rows = the group's input channels (CG), cols = (n, qh, qw) of the phase,
// K = (f, j, jw) over FG * nkh * nkw. A = w gathered, B = dout gathered.
@compute @workgroup_size(WX, WY)
fn conv_bwd_data_tiled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                       @builtin(local_invocation_id) lid: vec3<u32>,
                       @builtin(local_invocation_index) li: u32) {
    let tile = wid.x + wid.y * nwg.x;
    if (tile >= p.total) {
        return;
    }
    let s = p.stride;
    // Tiles are laid out for the largest phase; smaller phases return early.
    let qh_max = (p.h + s - 1u) / s;
    let qw_max = (p.w + s - 1u) / s;
    let col_tiles = (p.n * qh_max * qw_max + TN - 1u) / TN;
    let row_tiles = (p.cg + TM - 1u) / TM;
    let col0 = (tile % col_tiles) * TN;
    var rest = tile / col_tiles;
    let row0 = (rest % row_tiles) * TM;
    rest = rest / row_tiles;
    let g = rest % p.groups;
    let phase = rest / p.groups;
    let rh = phase / s;
    let rw = phase % s;
    var qh = 0u;
    if (rh < p.h) {
        qh = (p.h - rh + s - 1u) / s;
    }
    var qw = 0u;
    if (rw < p.w) {
        qw = (p.w - rw + s - 1u) / s;
    }
    let qhw = qh * qw;
    let cols = p.n * qhw;
    if (col0 >= cols) {
        return;
    }
    let kh0 = (rh + p.pad) % s;
    let kw0 = (rw + p.pad) % s;
    let nkw = (p.kw + s - 1u) / s;
    let nkhw = ((p.kh + s - 1u) / s) * nkw;
    let kdim = p.fg * nkhw;
    let r_nkw = 1.0 / f32(nkw);
    let r_nkhw = 1.0 / f32(nkhw);
    let khw = p.kh * p.kw;

    let ak = li % TK;
    let am0 = li / TK;
    let bn = li % TN;
    let bk0 = li / TN;
    let col = col0 + bn;
    let col_ok = col < cols;
    let bq = col % qhw;
    let oh_top = i32(bq / qw + (rh + p.pad - kh0) / s);
    let ow_top = i32(bq % qw + (rw + p.pad - kw0) / s);
    let ohw = p.oh * p.ow;
    let dbase = ((col / qhw) * p.f + g * p.fg) * ohw;

    var acc: array<vec4<f32>, ACC_SIZE>;
    for (var k0 = 0u; k0 < kdim; k0 += TK) {
        // A's k is the same for all of this invocation's loads in a step.
        let ka = k0 + ak;
        let fa = udiv(ka, nkhw, r_nkhw);
        let ta = ka - fa * nkhw;
        let ja = udiv(ta, nkw, r_nkw);
        let kha = kh0 + s * ja;
        let kwa = kw0 + s * (ta - ja * nkw);
        let a_ok = ka < kdim && kha < p.kh && kwa < p.kw;
        let wa = ((g * p.fg + fa) * p.cg + row0) * khw + kha * p.kw + kwa;
        for (var r = 0u; r < A_LOADS; r++) {
            let am = am0 + A_STEP * r;
            var av = 0.0;
            if (a_ok && row0 + am < p.cg) {
                av = in_b[wa + am * khw];
            }
            tile_a[ak * A_STRIDE + am / 4u][am % 4u] = av;
        }
        // B's k runs k0 + bk0 + B_STEP r: split it once, then step
        // (f, j, jw) forward with carries (see step_k).
        let kb = k0 + bk0;
        var f = udiv(kb, nkhw, r_nkhw);
        let t = kb - f * nkhw;
        var j = udiv(t, nkw, r_nkw);
        var jw = t - j * nkw;
        for (var r = 0u; r < B_LOADS; r++) {
            let bk = bk0 + B_STEP * r;
            var bv = 0.0;
            let oh = oh_top - i32(j);
            let ow = ow_top - i32(jw);
            if (col_ok && k0 + bk < kdim && kh0 + s * j < p.kh && kw0 + s * jw < p.kw && oh >= 0 && oh < i32(p.oh) && ow >= 0 && ow < i32(p.ow)) {
                bv = in_a[dbase + f * ohw + u32(oh) * p.ow + u32(ow)];
            }
            put_b(bk, bn, bv);
            let st = step_k(f, j, jw, nkhw / nkw, nkw);
            f = st.x;
            j = st.y;
            jw = st.z;
        }
        workgroupBarrier();
        mma(&acc, lid);
        workgroupBarrier();
    }
    for (var i = 0u; i < WM; i++) {
        let cl = row0 + WM * lid.y + i;
        if (cl >= p.cg) {
            continue;
        }
        let c = g * p.cg + cl;
        for (var j = 0u; j < WN; j++) {
            let cc = col0 + acc_col(j, lid.x);
            if (cc < cols) {
                let q = cc % qhw;
                let ih = rh + s * (q / qw);
                let iw = rw + s * (q % qw);
                out[(((cc / qhw) * p.c + c) * p.h + ih) * p.w + iw] = acc[i * NH + j / 4u][j % 4u];
            }
        }
    }
}

// Backward weights: per group, rows = the group's filters (FG), cols =
// (c, kh, kw) over CG*KH*KW, K = (n, oh, ow) over the whole batch. K is by
// far the largest dimension (N*OH*OW) while rows x cols can be a handful of
// tiles, so K is split: workgroup split s sums the K range
// [s*chunk, (s+1)*chunk) and writes its partial dw block to
// out[s * F*CG*KH*KW ...]; conv_split_reduce adds the blocks (with one
// split, out is dw itself). A = dout, B = im2col(x).
@compute @workgroup_size(WX, WY)
fn conv_bwd_weights_tiled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                          @builtin(local_invocation_id) lid: vec3<u32>,
                          @builtin(local_invocation_index) li: u32) {
    let tile = wid.x + wid.y * nwg.x;
    if (tile >= p.total) {
        return;
    }
    let khw = p.kh * p.kw;
    let cols = p.cg * khw;
    let col_tiles = (cols + TN - 1u) / TN;
    let row_tiles = (p.fg + TM - 1u) / TM;
    let col0 = (tile % col_tiles) * TN;
    var rest = tile / col_tiles;
    let row0 = (rest % row_tiles) * TM;
    rest = rest / row_tiles;
    let g = rest % p.groups;
    let split = rest / p.groups;
    let ohw = p.oh * p.ow;
    let hw = p.h * p.w;
    let kbeg = split * p.chunk;
    let kend = min(kbeg + p.chunk, p.n * ohw);

    let ak = li % TK;
    let am0 = li / TK;
    let bn = li % TN;
    let bk0 = li / TN;
    let col = col0 + bn;
    let col_ok = col < cols;
    let bci = col / khw;
    let kr = col - bci * khw;
    let bkh = kr / p.kw;
    let bkw = kr - bkh * p.kw;
    let xbase = (g * p.cg + bci) * hw;

    var acc: array<vec4<f32>, ACC_SIZE>;
    for (var k0 = kbeg; k0 < kend; k0 += TK) {
        // A's k is the same for all of this invocation's loads in a step.
        let ka = k0 + ak;
        let na = ka / ohw;
        let da = (na * p.f + g * p.fg + row0) * ohw + ka - na * ohw;
        for (var r = 0u; r < A_LOADS; r++) {
            let am = am0 + A_STEP * r;
            var av = 0.0;
            if (row0 + am < p.fg && ka < kend) {
                av = in_a[da + am * ohw];
            }
            tile_a[ak * A_STRIDE + am / 4u][am % 4u] = av;
        }
        // B's k runs k0 + bk0 + B_STEP r: split it once, then step
        // (n, oh, ow) forward with carries.
        let kb = k0 + bk0;
        var n = kb / ohw;
        let q = kb - n * ohw;
        var oh = q / p.ow;
        var ow = q - oh * p.ow;
        for (var r = 0u; r < B_LOADS; r++) {
            let bk = bk0 + B_STEP * r;
            var bv = 0.0;
            if (col_ok && k0 + bk < kend) {
                let ih = i32(oh * p.stride + bkh) - i32(p.pad);
                let iw = i32(ow * p.stride + bkw) - i32(p.pad);
                if (in_range(ih, p.h) && in_range(iw, p.w)) {
                    bv = in_b[(n * p.c) * hw + xbase + u32(ih) * p.w + u32(iw)];
                }
            }
            put_b(bk, bn, bv);
            ow += B_STEP;
            while (ow >= p.ow) {
                ow -= p.ow;
                oh += 1u;
            }
            while (oh >= p.oh) {
                oh -= p.oh;
                n += 1u;
            }
        }
        workgroupBarrier();
        mma(&acc, lid);
        workgroupBarrier();
    }
    let base = split * p.f * cols;
    for (var i = 0u; i < WM; i++) {
        let fl = row0 + WM * lid.y + i;
        if (fl >= p.fg) {
            continue;
        }
        for (var j = 0u; j < WN; j++) {
            let cc = col0 + acc_col(j, lid.x);
            if (cc < cols) {
                out[base + (g * p.fg + fl) * cols + cc] = acc[i * NH + j / 4u][j % 4u];
            }
        }
    }
}
