// One invocation per element of dx, gathering instead of scattering (so no
// two invocations write the same place): for every window that contains
// this element, add that window's dout if this element is the window's
// maximum (the first one in row-major order when several tie).
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    let total = p.N * p.C * p.H * p.W;
    if (i >= total) {
        return;
    }
    let iw = i % p.W;
    let ih = (i / p.W) % p.H;
    let nc = i / (p.W * p.H);
    let base = nc * p.H * p.W;
    var acc = 0.0;
    for (var oh = 0u; oh < p.Hout; oh++) {
        let h0 = oh * p.stride;
        if (ih < h0 || ih >= h0 + p.PH) {
            continue;
        }
        for (var ow = 0u; ow < p.Wout; ow++) {
            let w0 = ow * p.stride;
            if (iw < w0 || iw >= w0 + p.PW) {
                continue;
            }
            // Find the window's first maximum.
            var best = x[base + h0 * p.W + w0];
            var arg = base + h0 * p.W + w0;
            for (var kh = 0u; kh < p.PH; kh++) {
                for (var kw = 0u; kw < p.PW; kw++) {
                    let j = base + (h0 + kh) * p.W + w0 + kw;
                    if (x[j] > best) {
                        best = x[j];
                        arg = j;
                    }
                }
            }
            if (arg == i) {
                acc += dout[(nc * p.Hout + oh) * p.Wout + ow];
            }
        }
    }
    dx[i] = acc;
}
