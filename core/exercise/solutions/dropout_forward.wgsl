// One invocation per element. Unit i is kept iff word i of the Philox
// stream is at least the threshold; kept units are scaled by 1/(1-p) so the
// expected output equals the input (inverted dropout).
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= p.n) {
        return;
    }
    var s = 0.0;
    if (random_word(i) >= p.threshold) {
        s = p.scale;
    }
    out[i] = x[i] * s;
    mask[i] = s;
}
