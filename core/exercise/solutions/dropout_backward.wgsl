// The mask already holds 0 or 1/(1-p), so the gradient is dout * mask.
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= p.n) {
        return;
    }
    dx[i] = dout[i] * mask[i];
}
