// One invocation per output element (n, f, oh, ow). The window starts at
// (oh * stride - pad, ow * stride - pad) in x; taps that fall in the
// padding read zero, so they are skipped.
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    let total = p.N * p.F * p.Hout * p.Wout;
    if (i >= total) {
        return;
    }
    let ow = i % p.Wout;
    let oh = (i / p.Wout) % p.Hout;
    let f = (i / (p.Wout * p.Hout)) % p.F;
    let n = i / (p.Wout * p.Hout * p.F);
    var acc = b[f];
    for (var c = 0u; c < p.C; c++) {
        for (var kh = 0u; kh < p.HH; kh++) {
            // i32: the padded row may be negative.
            let h = i32(oh * p.stride + kh) - i32(p.pad);
            if (h < 0 || h >= i32(p.H)) {
                continue;
            }
            for (var kw = 0u; kw < p.WW; kw++) {
                let w_ = i32(ow * p.stride + kw) - i32(p.pad);
                if (w_ < 0 || w_ >= i32(p.W)) {
                    continue;
                }
                let xi = ((n * p.C + c) * p.H + u32(h)) * p.W + u32(w_);
                let wi = ((f * p.C + c) * p.HH + kh) * p.WW + kw;
                acc += x[xi] * w[wi];
            }
        }
    }
    out[i] = acc;
}
