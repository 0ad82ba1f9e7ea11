// One invocation per output element: the maximum of its window.
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    let total = p.N * p.C * p.Hout * p.Wout;
    if (i >= total) {
        return;
    }
    let ow = i % p.Wout;
    let oh = (i / p.Wout) % p.Hout;
    let nc = i / (p.Wout * p.Hout);
    let base = nc * p.H * p.W;
    var best = x[base + (oh * p.stride) * p.W + ow * p.stride];
    for (var kh = 0u; kh < p.PH; kh++) {
        for (var kw = 0u; kw < p.PW; kw++) {
            best = max(best, x[base + (oh * p.stride + kh) * p.W + ow * p.stride + kw]);
        }
    }
    out[i] = best;
}
