// One invocation per channel c: the statistics run over N, H and W, so each
// channel is normalised as one feature seen N*H*W times.
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= p.C) {
        return;
    }
    let hw = p.H * p.W;
    let m = f32(p.N * hw);
    var sum = 0.0;
    for (var n = 0u; n < p.N; n++) {
        for (var k = 0u; k < hw; k++) {
            sum += x[(n * p.C + c) * hw + k];
        }
    }
    let mu = sum / m;
    var sq = 0.0;
    for (var n = 0u; n < p.N; n++) {
        for (var k = 0u; k < hw; k++) {
            let v = x[(n * p.C + c) * hw + k] - mu;
            sq += v * v;
        }
    }
    let v = sq / m;
    let istd = 1.0 / sqrt(v + p.eps);
    for (var n = 0u; n < p.N; n++) {
        for (var k = 0u; k < hw; k++) {
            let i = (n * p.C + c) * hw + k;
            out[i] = gamma[c] * (x[i] - mu) * istd + beta[c];
        }
    }
    mean[c] = mu;
    var_out[c] = v;
}
