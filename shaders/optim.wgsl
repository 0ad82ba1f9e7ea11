// In-place first-order updates, element-wise, as core/optim computes them.
//
// The per-step scalars (learning rate, momentum or betas, Adam's bias
// corrections, epsilon, weight decay) come in a small storage buffer that
// core/gpu writes for every call, not in the uniform block: uniform blocks
// are cached by content, so a learning rate or step count that changes
// every step would create (and leak until the cache is trimmed) a new
// uniform buffer per step. The uniform holds only n, which is fixed per
// parameter tensor, so its cached buffer is reused every step.
// Bindings: 0 params, 1 dw, 2 hyper, 3 w, 4 velocity or Adam's m, 5 Adam's v.

const WG: u32 = 256u;

struct Params {
    n: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

// hyper, in order (core/gpu's optimHyper):
//   0 lr, 1 momentum or beta1, 2 beta2, 3 1 - beta1, 4 1 - beta2,
//   5 1 / (1 - beta1^t), 6 1 / (1 - beta2^t), 7 epsilon, 8 weight decay.
// Differences and reciprocals are formed in float64 on the CPU and rounded
// once, which is more accurate than forming them here in f32.

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dw: array<f32>;
@group(0) @binding(2) var<storage, read> hyper: array<f32>;
@group(0) @binding(3) var<storage, read_write> w: array<f32>;
@group(0) @binding(4) var<storage, read_write> s1: array<f32>;
@group(0) @binding(5) var<storage, read_write> s2: array<f32>;

fn element(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * WG;
}

// w -= lr * dw
@compute @workgroup_size(WG)
fn sgd_update(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = element(gid, nwg);
    if (i >= p.n) {
        return;
    }
    w[i] = w[i] - hyper[0] * dw[i];
}

// v = momentum * v - lr * dw; w += v (the course's sgd_momentum)
@compute @workgroup_size(WG)
fn sgd_momentum_update(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = element(gid, nwg);
    if (i >= p.n) {
        return;
    }
    let v = hyper[1] * s1[i] - hyper[0] * dw[i];
    s1[i] = v;
    w[i] = w[i] + v;
}

// Adam with bias correction; with weight decay wd > 0, AdamW's decoupled
// decay, w -= lr * (step + wd * w), using w before the step.
@compute @workgroup_size(WG)
fn adam_update(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = element(gid, nwg);
    if (i >= p.n) {
        return;
    }
    let g = dw[i];
    let m = hyper[1] * s1[i] + hyper[3] * g;
    let v = hyper[2] * s2[i] + hyper[4] * (g * g);
    s1[i] = m;
    s2[i] = v;
    let step = (m * hyper[5]) / (sqrt(v * hyper[6]) + hyper[7]);
    let wi = w[i];
    w[i] = wi - hyper[0] * (step + hyper[8] * wi);
}
