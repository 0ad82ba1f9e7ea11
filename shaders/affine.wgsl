// Affine layer helpers around matmul.wgsl: bias broadcast and its gradient.
// out (rows, cols) row-major, bias (cols).

const WG: u32 = 256u;

struct Params {
    rows: u32,
    cols: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> vec_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> mat: array<f32>;
@group(0) @binding(3) var<storage, read> mat_in: array<f32>;
@group(0) @binding(4) var<storage, read_write> vec_out: array<f32>;

// mat[r, c] += vec_in[c], in place on the matmul result.
@compute @workgroup_size(WG)
fn add_bias(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WG;
    if (i >= p.rows * p.cols) {
        return;
    }
    mat[i] = mat[i] + vec_in[i % p.cols];
}

// vec_out[c] = sum over r of mat_in[r, c]: db for the affine backward pass.
// One invocation per column; neighbouring invocations read neighbouring
// addresses, so each row is read coalesced.
@compute @workgroup_size(WG)
fn sum_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let c = gid.x + gid.y * nwg.x * WG;
    if (c >= p.cols) {
        return;
    }
    var s = 0.0;
    for (var r = 0u; r < p.rows; r++) {
        s += mat_in[r * p.cols + c];
    }
    vec_out[c] = s;
}
