// One invocation per element (n, c, h, w) of dx: a gather. Input pixel h is
// read by output row oh through tap kh when oh * stride + kh - pad == h, so
// for each tap the output row is (h + pad - kh) / stride, if that division
// is exact and the row exists.
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    let total = p.N * p.C * p.H * p.W;
    if (i >= total) {
        return;
    }
    let iw = i32(i % p.W);
    let ih = i32((i / p.W) % p.H);
    let c = (i / (p.W * p.H)) % p.C;
    let n = i / (p.W * p.H * p.C);
    let s = i32(p.stride);
    var acc = 0.0;
    for (var f = 0u; f < p.F; f++) {
        for (var kh = 0u; kh < p.HH; kh++) {
            let th = ih + i32(p.pad) - i32(kh);
            if (th < 0 || th % s != 0 || th / s >= i32(p.Hout)) {
                continue;
            }
            for (var kw = 0u; kw < p.WW; kw++) {
                let tw = iw + i32(p.pad) - i32(kw);
                if (tw < 0 || tw % s != 0 || tw / s >= i32(p.Wout)) {
                    continue;
                }
                let oi = ((n * p.F + f) * p.Hout + u32(th / s)) * p.Wout + u32(tw / s);
                let wi = ((f * p.C + c) * p.HH + kh) * p.WW + kw;
                acc += dout[oi] * w[wi];
            }
        }
    }
    dx[i] = acc;
}
