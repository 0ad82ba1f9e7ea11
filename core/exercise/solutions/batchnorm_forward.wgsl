// One invocation per feature (column) d: it averages column d over the
// batch, then normalises and scales it.
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let d = gid.x;
    if (d >= p.D) {
        return;
    }
    var sum = 0.0;
    for (var n = 0u; n < p.N; n++) {
        sum += x[n * p.D + d];
    }
    let mu = sum / f32(p.N);
    var sq = 0.0;
    for (var n = 0u; n < p.N; n++) {
        let c = x[n * p.D + d] - mu;
        sq += c * c;
    }
    // The biased variance (divide by N), as the course and PyTorch's
    // training-mode normalisation use.
    let v = sq / f32(p.N);
    let istd = 1.0 / sqrt(v + p.eps);
    for (var n = 0u; n < p.N; n++) {
        let i = n * p.D + d;
        out[i] = gamma[d] * (x[i] - mu) * istd + beta[d];
    }
    mean[d] = mu;
    var_out[d] = v;
}
