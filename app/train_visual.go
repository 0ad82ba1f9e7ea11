package app

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"

	"gradlab/core/data"
	"gradlab/core/net"
	"gradlab/core/nn"
	"gradlab/core/tensor"
)

// The views after training are small PNG images made here and shown as
// data: URLs, scaled up with crisp pixels by CSS: thousands of SVG rects
// per feature map would make every re-render slow.

// pngURL encodes a grey (c = 1) or RGB (c = 3) image whose values are
// mapped linearly from [lo, hi] to [0, 255].
func pngURL(vals []float64, c, h, w int, lo, hi float64) string {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	scale := 0.0
	if hi > lo {
		scale = 255 / (hi - lo)
	}
	byteOf := func(v float64) uint8 {
		if math.IsNaN(v) {
			return 0
		}
		return uint8(math.Round(math.Min(255, math.Max(0, (v-lo)*scale))))
	}
	hw := h * w
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			if c == 3 {
				img.Set(x, y, color.RGBA{byteOf(vals[i]), byteOf(vals[hw+i]), byteOf(vals[2*hw+i]), 255})
			} else {
				g := byteOf(vals[i])
				img.Set(x, y, color.RGBA{g, g, g, 255})
			}
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
}

func minMax(v []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range v {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}

// maxShown caps the filters and feature maps drawn.
const maxShown = 32

// firstConv finds the network's first conv layer and its weights and bias.
func firstConv(n *net.Net) (step net.Step, w, b *tensor.Tensor, ok bool) {
	for _, st := range n.Steps {
		if st.Kind != net.Conv {
			continue
		}
		for _, p := range n.Params {
			if p.Name == fmt.Sprintf("L%d.W", st.Index) {
				w = p.Value
			}
			if p.Name == fmt.Sprintf("L%d.b", st.Index) {
				b = p.Value
			}
		}
		return st, w, b, w != nil
	}
	return net.Step{}, nil, nil, false
}

// filterImages draws each first-layer filter (C x K x K) normalised on its
// own range, in colour when the input has three channels.
func filterImages(n *net.Net) []string {
	_, w, _, ok := firstConv(n)
	if !ok {
		return nil
	}
	f, c, k := w.Shape[0], w.Shape[1], w.Shape[2]
	size := c * k * k
	var out []string
	for i := 0; i < min(f, maxShown); i++ {
		v := w.Data[i*size : (i+1)*size]
		lo, hi := minMax(v)
		ch := 1
		if c == 3 {
			ch = 3
		}
		out = append(out, pngURL(v, ch, k, k, lo, hi))
	}
	return out
}

// activationImages runs the first conv layer on one image and draws each
// output map on its own range.
func activationImages(n *net.Net, s *data.Set, nz data.Normalizer, idx int) ([]string, error) {
	st, w, b, ok := firstConv(n)
	if !ok {
		return nil, fmt.Errorf("this network has no conv layer, so there are no feature maps to show")
	}
	if idx < 0 || idx >= s.N {
		return nil, fmt.Errorf("test image %d: choose one in 0..%d", idx, s.N-1)
	}
	x, _, err := s.Batch([]int{idx}, nz)
	if err != nil {
		return nil, err
	}
	out, _, err := nn.ConvForwardFast(x, w, b, nn.ConvParam{Stride: st.Stride, Pad: st.Pad})
	if err != nil {
		return nil, err
	}
	f, oh, ow := out.Shape[1], out.Shape[2], out.Shape[3]
	var imgs []string
	for i := 0; i < min(f, maxShown); i++ {
		v := out.Data[i*oh*ow : (i+1)*oh*ow]
		lo, hi := minMax(v)
		imgs = append(imgs, pngURL(v, 1, oh, ow, lo, hi))
	}
	return imgs, nil
}

// imageURL draws test image idx as stored (uint8 pixels).
func imageURL(s *data.Set, idx int) string {
	d := s.ImageSize()
	v := make([]float64, d)
	for i, p := range s.Images[idx*d : (idx+1)*d] {
		v[i] = float64(p)
	}
	return pngURL(v, s.C, s.H, s.W, 0, 255)
}

// prediction is one cell of the predictions grid.
type prediction struct {
	Index       int
	Image       string
	True, Guess int
}

// predictGrid classifies the first n test images with the float64 network
// in test mode.
func predictGrid(m *net.Net, s *data.Set, nz data.Normalizer, n int) ([]prediction, error) {
	n = min(n, s.N)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	x, labels, err := s.Batch(idx, nz)
	if err != nil {
		return nil, err
	}
	guess, _, err := m.Predict(x)
	if err != nil {
		return nil, err
	}
	out := make([]prediction, n)
	for i := range out {
		out[i] = prediction{Index: i, Image: imageURL(s, i), True: labels[i], Guess: guess[i]}
	}
	return out, nil
}
