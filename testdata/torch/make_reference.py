#!/usr/bin/python3
"""Write PyTorch reference values that gradlab's float64 layers are checked against.

PyTorch is an independent implementation of the same layers, so agreement to
~1e-12 says our forward passes and hand-written backward passes are right, not
merely self-consistent (a gradient check cannot catch a forward pass that is
wrong in a differentiable way, e.g. a flipped kernel or an off-by-one pad).

Run from anywhere with Debian's PyTorch (apt-get install python3-torch):
    /usr/bin/python3 testdata/torch/make_reference.py
It rewrites conv.json, batchnorm.json, maxpool.json, softmax.json and
SHA256SUMS next to itself. Everything is float64 and seeded, so a rerun with
the same PyTorch reproduces the files (up to last-bit differences between
PyTorch builds). Go tests read only the committed files; CI needs no PyTorch.

File format (one JSON object per op family), read with encoding/json:
    {"format": "gradlab-torch-reference", "version": 1, "op": "conv2d",
     "torch": "<torch.__version__>", "seed": <int>, "notes": "...",
     "cases": [{"name": "...", "params": {...},
                "tensors": {"x": {"shape": [2, 3, 5, 5], "data": [...]}, ...}}]}
Tensor data is row-major (NCHW for images). Floats are written by Python's
json module, which uses repr(): the shortest string that round-trips exactly,
so Go's strconv parses back the very same float64.
SHA256SUMS is in `sha256sum -c` format; the Go loader verifies it so a
corrupted or truncated file fails loudly instead of comparing wrong numbers.
"""

import hashlib
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

SEED = 20260127
FORMAT = "gradlab-torch-reference"
VERSION = 1
HERE = os.path.dirname(os.path.abspath(__file__))

torch.set_default_dtype(torch.float64)
GEN = torch.Generator().manual_seed(SEED)


def randn(*shape):
    return torch.randn(*shape, generator=GEN, dtype=torch.float64)


def leaf(t):
    return t.clone().detach().requires_grad_(True)


def enc(t):
    t = t.detach().to(torch.float64).contiguous()
    data = [float(v) for v in t.reshape(-1).tolist()]
    for v in data:
        if not math.isfinite(v):
            raise SystemExit("non-finite value in reference data")
    return {"shape": list(t.shape), "data": data}


def conv_case(name, n, c, h, w, f, kh, kw, stride, pad, groups=1, bias=True):
    x = leaf(randn(n, c, h, w))
    wt = leaf(randn(f, c // groups, kh, kw))
    b = leaf(randn(f)) if bias else None
    y = F.conv2d(x, wt, b, stride=stride, padding=pad, groups=groups)
    dout = randn(*y.shape)
    y.backward(dout)
    exact = (h + 2 * pad - kh) % stride == 0 and (w + 2 * pad - kw) % stride == 0
    tensors = {"x": enc(x), "w": enc(wt), "y": enc(y), "dout": enc(dout),
               "dx": enc(x.grad), "dw": enc(wt.grad)}
    if bias:
        tensors["b"] = enc(b)
        tensors["db"] = enc(b.grad)
    return {"name": name,
            "params": {"stride": stride, "pad": pad, "groups": groups,
                       "bias": bias, "exact": exact},
            "tensors": tensors}


def conv_cases():
    return [
        # the notebook's forward check shape
        conv_case("course_fwd_s2_p1_k4", 2, 3, 4, 4, 3, 4, 4, 2, 1),
        conv_case("k3_s1_p1", 2, 3, 5, 5, 4, 3, 3, 1, 1),
        conv_case("k3_s1_p0_odd", 2, 3, 7, 9, 5, 3, 3, 1, 0),
        conv_case("k1_s1_p0", 2, 5, 3, 5, 3, 1, 1, 1, 0),
        conv_case("k1_s2_p0_odd", 1, 3, 5, 7, 2, 1, 1, 2, 0),
        conv_case("k5_s1_p2", 1, 3, 7, 7, 2, 5, 5, 1, 2),
        conv_case("k5_s3_p1_odd", 2, 2, 9, 12, 3, 5, 5, 3, 1),
        conv_case("k3_s2_p1_nobias", 2, 5, 7, 7, 6, 3, 3, 2, 1, bias=False),
        conv_case("k2x3_s1_p1", 2, 3, 5, 6, 4, 2, 3, 1, 1),
        conv_case("k2x3_s2_p0_odd", 1, 7, 6, 9, 3, 2, 3, 2, 0),
        conv_case("k3_s3_p2_batch1", 1, 6, 8, 5, 5, 3, 3, 3, 2),
        conv_case("k3_s2_p1_floor", 2, 3, 6, 6, 2, 3, 3, 2, 1),
        conv_case("depthwise_k3_s1_p1", 2, 5, 6, 7, 5, 3, 3, 1, 1, groups=5),
        conv_case("depthwise_k3_s2_p1_nobias", 1, 3, 7, 7, 3, 3, 3, 2, 1, groups=3, bias=False),
        conv_case("groups2_k3_s1_p0", 2, 4, 5, 5, 6, 3, 3, 1, 0, groups=2),
    ]


def bn_case(name, shape, scale, shift, prev=False, init="default"):
    """One training-mode batchnorm step, optionally after one earlier step on
    another batch so the running statistics move twice.

    The initial running statistics are written out (running_mean_init,
    running_var_init) and the Go test installs them, because the two sides
    start differently: PyTorch from mean 0 / var 1, the course's
    bn_param.get('running_var', np.zeros(D)) from var 0. init="default" uses
    PyTorch's (0, 1); init="random" uses arbitrary values so a momentum
    applied the wrong way round cannot pass by luck."""
    spatial = len(shape) == 4
    ch = shape[1]
    dims = (0, 2, 3) if spatial else (0,)
    count = shape[0] * (shape[2] * shape[3] if spatial else 1)
    if init == "default":
        rm0, rv0 = torch.zeros(ch), torch.ones(ch)
    else:
        rm0, rv0 = randn(ch), 0.5 + randn(ch).abs()
    rm_t, rv_t = rm0.clone(), rv0.clone()
    # the same update with the biased batch variance (the course's convention)
    rm_b, rv_b = rm0.clone(), rv0.clone()
    tensors = {"running_mean_init": enc(rm0), "running_var_init": enc(rv0)}
    if prev:
        xp = randn(*shape) * scale + shift
        g0 = randn(ch)
        b0 = randn(ch)
        F.batch_norm(xp, rm_t, rv_t, g0, b0, training=True, momentum=0.1, eps=1e-5)
        rm_b = 0.9 * rm_b + 0.1 * xp.mean(dim=dims)
        rv_b = 0.9 * rv_b + 0.1 * xp.var(dim=dims, unbiased=False)
        tensors["x_prev"] = enc(xp)
    x = leaf(randn(*shape) * scale + shift)
    gamma = leaf(randn(ch))
    beta = leaf(randn(ch))
    y = F.batch_norm(x, rm_t, rv_t, gamma, beta, training=True, momentum=0.1, eps=1e-5)
    dout = randn(*y.shape)
    y.backward(dout)
    rm_b = 0.9 * rm_b + 0.1 * x.detach().mean(dim=dims)
    rv_b = 0.9 * rv_b + 0.1 * x.detach().var(dim=dims, unbiased=False)
    if not torch.allclose(rm_t, rm_b, rtol=1e-13, atol=0):
        raise SystemExit(name + ": running mean recomputation disagrees with PyTorch")
    tensors.update({"x": enc(x), "gamma": enc(gamma), "beta": enc(beta),
                    "y": enc(y), "dout": enc(dout), "dx": enc(x.grad),
                    "dgamma": enc(gamma.grad), "dbeta": enc(beta.grad),
                    "running_mean": enc(rm_t),
                    "running_var_unbiased": enc(rv_t),
                    "running_var_biased": enc(rv_b)})
    return {"name": name,
            "params": {"eps": 1e-5, "momentum": 0.9, "spatial": spatial,
                       "count": count, "prev": prev},
            "tensors": tensors}


def bn_cases():
    return [
        bn_case("1d_course_4x5", (4, 5), 5.0, 12.0),
        bn_case("1d_N2_D3", (2, 3), 1.0, 0.0),
        bn_case("1d_16x7_two_steps", (16, 7), 3.0, -4.0, prev=True, init="random"),
        bn_case("1d_6x4_random_init", (6, 4), 0.5, 2.0, init="random"),
        bn_case("spatial_course_2x3x4x5", (2, 3, 4, 5), 4.0, 10.0),
        bn_case("spatial_1x5x3x3_random_init", (1, 5, 3, 3), 2.0, 1.0, init="random"),
        bn_case("spatial_3x2x5x7_two_steps", (3, 2, 5, 7), 1.0, 3.0, prev=True),
    ]


def pool_case(name, shape, ph, pw, stride):
    x = leaf(randn(*shape))
    y = F.max_pool2d(x, (ph, pw), stride=stride)
    dout = randn(*y.shape)
    y.backward(dout)
    h, w = shape[2], shape[3]
    exact = (h - ph) % stride == 0 and (w - pw) % stride == 0
    return {"name": name,
            "params": {"height": ph, "width": pw, "stride": stride, "exact": exact},
            "tensors": {"x": enc(x), "y": enc(y), "dout": enc(dout), "dx": enc(x.grad)}}


def pool_cases():
    return [
        pool_case("course_fwd_2x2_s2", (2, 3, 4, 4), 2, 2, 2),
        pool_case("course_bwd_2x3_s2", (10, 3, 8, 7), 2, 3, 2),
        pool_case("3x3_s1_overlap_odd", (2, 2, 7, 9), 3, 3, 1),
        pool_case("3x2_s2_overlap", (1, 3, 9, 8), 3, 2, 2),
        pool_case("1x4_s3_batch1", (1, 5, 4, 10), 1, 4, 3),
        pool_case("3x3_s3_odd", (2, 3, 9, 9), 3, 3, 3),
        pool_case("2x2_s2_floor", (2, 2, 5, 7), 2, 2, 2),
    ]


def softmax_case(name, n, c, scale=1.0):
    x = leaf(randn(n, c) * scale)
    labels = torch.randint(0, c, (n,), generator=GEN)
    loss = F.cross_entropy(x, labels, reduction="mean")
    loss.backward()
    return {"name": name,
            "params": {"labels": [int(v) for v in labels.tolist()]},
            "tensors": {"x": enc(x), "loss": enc(loss.reshape(1)), "dx": enc(x.grad)}}


def softmax_cases():
    return [
        softmax_case("course_50x10", 50, 10, 0.001),
        softmax_case("N1_C3", 1, 3),
        softmax_case("7x5", 7, 5),
        # large logits: exp overflows unless the row max is subtracted first
        softmax_case("large_logits_6x4", 6, 4, 400.0),
    ]


def write(fname, op, notes, cases):
    doc = {"format": FORMAT, "version": VERSION, "op": op,
           "torch": torch.__version__, "seed": SEED, "notes": notes,
           "cases": cases}
    text = json.dumps(doc, separators=(",", ":"), allow_nan=False) + "\n"
    with open(os.path.join(HERE, fname), "w") as f:
        f.write(text)
    return fname, hashlib.sha256(text.encode()).hexdigest()


def main():
    sums = [
        write("conv.json", "conv2d",
              "F.conv2d(x, w, b, stride, padding=pad, groups); w is (F, C/groups, HH, WW); "
              "dout is a random upstream gradient; dx/dw/db = vector-Jacobian products. "
              "exact=false: (H+2*pad-HH) or (W+2*pad-WW) is not a multiple of stride; "
              "PyTorch floors the output size.",
              conv_cases()),
        write("batchnorm.json", "batch_norm",
              "F.batch_norm training=True, eps 1e-5, PyTorch momentum 0.1 (= gradlab momentum 0.9), "
              "starting from running_mean_init/running_var_init (PyTorch's default 0/1, or random); "
              "with prev=true one earlier step on "
              "x_prev (its own gamma/beta, irrelevant to running stats) ran first. "
              "running_var_unbiased is PyTorch's own update (unbiased batch variance); "
              "running_var_biased is the same update with the biased batch variance (the course's). "
              "count = elements per channel.",
              bn_cases()),
        write("maxpool.json", "max_pool2d",
              "F.max_pool2d(x, (height, width), stride), no padding; x is continuous random "
              "so every window has a unique max. exact=false: PyTorch floors the output size.",
              pool_cases()),
        write("softmax.json", "cross_entropy",
              "F.cross_entropy(x, labels, reduction='mean'); loss has shape (1,); dx is d loss / d x.",
              softmax_cases()),
    ]
    with open(os.path.join(HERE, "SHA256SUMS"), "w") as f:
        for name, digest in sums:
            f.write("%s  %s\n" % (digest, name))
    for name, _ in sums:
        print("%-15s %8d bytes" % (name, os.path.getsize(os.path.join(HERE, name))), file=sys.stderr)


if __name__ == "__main__":
    main()
