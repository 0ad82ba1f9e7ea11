// One invocation per feature d. With xhat = (x - mu) / sqrt(var + eps):
//   dbeta  = sum_n dout
//   dgamma = sum_n dout * xhat
//   dx     = gamma / sqrt(var + eps) / N * (N * dout - dbeta - xhat * dgamma)
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let d = gid.x;
    if (d >= p.D) {
        return;
    }
    let mu = stats[d];
    let istd = 1.0 / sqrt(stats[p.D + d] + p.eps);
    var db = 0.0;
    var dg = 0.0;
    for (var n = 0u; n < p.N; n++) {
        let i = n * p.D + d;
        db += dout[i];
        dg += dout[i] * (x[i] - mu) * istd;
    }
    let nf = f32(p.N);
    for (var n = 0u; n < p.N; n++) {
        let i = n * p.D + d;
        let xhat = (x[i] - mu) * istd;
        dx[i] = gamma[d] * istd / nf * (nf * dout[i] - db - xhat * dg);
    }
    dgamma[d] = dg;
    dbeta[d] = db;
}
