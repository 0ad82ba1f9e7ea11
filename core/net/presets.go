package net

// ReferenceCNN is the benchmark network of the GPU issue and the PyTorch
// reference, for any input size: three conv stages of 3x3 convs with
// batchnorm and ReLU (32, 32 | 64, 64 | 128 filters), each stage closed by a
// 2x2 max-pool, then dropout and one affine layer. With bn false the convs
// get biases instead; with dropout 0 the dropout layer is left out.
func ReferenceCNN(c, h, w, classes int, bn bool, dropout float64) Spec {
	var ls []Layer
	conv := func(out int) {
		ls = append(ls, Layer{Kind: Conv, Out: out, K: 3, Stride: 1, Pad: 1, Bias: !bn})
		if bn {
			ls = append(ls, Layer{Kind: BatchNorm})
		}
		ls = append(ls, Layer{Kind: ReLU})
	}
	pool := func() { ls = append(ls, Layer{Kind: MaxPool, K: 2, Stride: 2}) }
	conv(32)
	conv(32)
	pool()
	conv(64)
	conv(64)
	pool()
	conv(128)
	pool()
	if dropout > 0 {
		ls = append(ls, Layer{Kind: Dropout, P: dropout})
	}
	ls = append(ls, Layer{Kind: Affine, Out: classes, Bias: true})
	return Spec{Name: "reference-cnn", C: c, H: h, W: w, Classes: classes, Layers: ls}
}

// ThreeLayerConvNet is the course's conv - relu - 2x2 pool - affine - relu -
// affine net, with "same" padding for an odd filter size.
func ThreeLayerConvNet(c, h, w, classes, filters, filterSize, hidden int) Spec {
	return Spec{Name: "three-layer-convnet", C: c, H: h, W: w, Classes: classes, Layers: []Layer{
		{Kind: Conv, Out: filters, K: filterSize, Stride: 1, Pad: (filterSize - 1) / 2, Bias: true},
		{Kind: ReLU},
		{Kind: MaxPool, K: 2, Stride: 2},
		{Kind: Affine, Out: hidden, Bias: true},
		{Kind: ReLU},
		{Kind: Affine, Out: classes, Bias: true},
	}}
}

// FullyConnected is affine - [bn] - relu - [dropout] per hidden layer, then
// the scoring affine layer.
func FullyConnected(c, h, w, classes int, hidden []int, bn bool, dropout float64) Spec {
	var ls []Layer
	for _, u := range hidden {
		ls = append(ls, Layer{Kind: Affine, Out: u, Bias: true})
		if bn {
			ls = append(ls, Layer{Kind: BatchNorm})
		}
		ls = append(ls, Layer{Kind: ReLU})
		if dropout > 0 {
			ls = append(ls, Layer{Kind: Dropout, P: dropout})
		}
	}
	ls = append(ls, Layer{Kind: Affine, Out: classes, Bias: true})
	return Spec{Name: "fully-connected", C: c, H: h, W: w, Classes: classes, Layers: ls}
}
