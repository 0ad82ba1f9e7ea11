// Element-wise kernels: one invocation per element.
// Bindings: 0 params, 1 x (input), 2 dout (backward only), 3 result.

const WG: u32 = 256u;

struct Params {
    n: u32,
    value: f32, // fill only

    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read_write> result: array<f32>;

// The grid is 2-D when n needs more than 65535 workgroups; fold it back.
fn element(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * WG;
}

@compute @workgroup_size(WG)
fn relu_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = element(gid, nwg);
    if (i >= p.n) {
        return;
    }
    result[i] = max(x[i], 0.0);
}

// The gradient passes where the forward input was positive; at exactly 0 it
// is 0, the course's convention (x > 0), so GPU and CPU agree bit for bit.
@compute @workgroup_size(WG)
fn relu_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = element(gid, nwg);
    if (i >= p.n) {
        return;
    }
    result[i] = select(0.0, dout[i], x[i] > 0.0);
}

// result[i] = value: zero-initialisation of pooled buffers (whose contents
// are left over from earlier use) and constant tensors.
@compute @workgroup_size(WG)
fn fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = element(gid, nwg);
    if (i >= p.n) {
        return;
    }
    result[i] = p.value;
}
