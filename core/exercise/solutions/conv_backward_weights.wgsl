// One invocation per weight (f, c, kh, kw): dw sums x * dout over the batch
// and every output position. The first F invocations also sum db.
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    let total = p.F * p.C * p.HH * p.WW;
    if (i >= total) {
        return;
    }
    let kw = i % p.WW;
    let kh = (i / p.WW) % p.HH;
    let c = (i / (p.WW * p.HH)) % p.C;
    let f = i / (p.WW * p.HH * p.C);
    var acc = 0.0;
    for (var n = 0u; n < p.N; n++) {
        for (var oh = 0u; oh < p.Hout; oh++) {
            let h = i32(oh * p.stride + kh) - i32(p.pad);
            if (h < 0 || h >= i32(p.H)) {
                continue;
            }
            for (var ow = 0u; ow < p.Wout; ow++) {
                let w_ = i32(ow * p.stride + kw) - i32(p.pad);
                if (w_ < 0 || w_ >= i32(p.W)) {
                    continue;
                }
                let xi = ((n * p.C + c) * p.H + u32(h)) * p.W + u32(w_);
                let oi = ((n * p.F + f) * p.Hout + oh) * p.Wout + ow;
                acc += x[xi] * dout[oi];
            }
        }
    }
    dw[i] = acc;
    if (i < p.F) {
        var sb = 0.0;
        for (var n = 0u; n < p.N; n++) {
            for (var k = 0u; k < p.Hout * p.Wout; k++) {
                sb += dout[(n * p.F + i) * p.Hout * p.Wout + k];
            }
        }
        db[i] = sb;
    }
}
