// One invocation per element: out = max(x, 0).
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= p.n) {
        return;
    }
    out[i] = max(x[i], 0.0);
}
