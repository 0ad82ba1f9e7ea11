package data

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Synthetic draws n seeded colour images (3 channels) in 10 classes for the
// experiments where colour matters and no colour dataset is reachable. A
// class is a shape (disc, square, ring, bars, cross) crossed with a colour
// family (warm or cool); position, size, hue within the family and
// background noise vary, so a model has to learn both shape and colour.
func Synthetic(name string, n, h, w int, seed uint64) (*Set, error) {
	if n <= 0 || h < 8 || w < 8 || n*h*w*3 > 1<<30 {
		return nil, fmt.Errorf("synthetic: %d images of %dx%d: want n >= 1, sides >= 8, at most 1 GiB", n, h, w)
	}
	r := rand.New(rand.NewPCG(seed, 0xc0101))
	s := &Set{Name: name, N: n, C: 3, H: h, W: w, Classes: 10,
		Images: make([]uint8, n*3*h*w), Labels: make([]uint8, n)}
	hw := h * w
	for i := 0; i < n; i++ {
		label := r.IntN(10)
		s.Labels[i] = uint8(label)
		shape, warm := label%5, label < 5
		col := [3]float64{0.2 + 0.3*r.Float64(), 0.2 + 0.3*r.Float64(), 0.2 + 0.3*r.Float64()}
		if warm {
			col[0] = 0.75 + 0.25*r.Float64()
		} else {
			col[2] = 0.75 + 0.25*r.Float64()
		}
		rad := (0.22 + 0.12*r.Float64()) * float64(min(h, w))
		cy := float64(h)/2 + (r.Float64()-0.5)*float64(h)*0.3
		cx := float64(w)/2 + (r.Float64()-0.5)*float64(w)*0.3
		img := s.Images[i*3*hw : (i+1)*3*hw]
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				dy, dx := float64(y)+0.5-cy, float64(x)+0.5-cx
				if inShape(shape, dy, dx, rad) {
					for c := 0; c < 3; c++ {
						img[c*hw+y*w+x] = toByte(col[c] + 0.05*r.NormFloat64())
					}
				} else {
					g := 0.1 + 0.08*r.NormFloat64()
					for c := 0; c < 3; c++ {
						img[c*hw+y*w+x] = toByte(g)
					}
				}
			}
		}
	}
	return s, nil
}

func inShape(shape int, dy, dx, rad float64) bool {
	d := math.Hypot(dy, dx)
	switch shape {
	case 0: // disc
		return d < rad
	case 1: // square
		return math.Abs(dy) < rad*0.85 && math.Abs(dx) < rad*0.85
	case 2: // ring
		return d < rad && d > rad*0.55
	case 3: // horizontal bars
		return math.Abs(dx) < rad && math.Abs(dy) < rad && int(math.Floor((dy+rad)/(rad/2.5)))%2 == 0
	default: // cross
		return (math.Abs(dy) < rad*0.3 && math.Abs(dx) < rad) || (math.Abs(dx) < rad*0.3 && math.Abs(dy) < rad)
	}
}

func toByte(v float64) uint8 { return uint8(math.Round(255 * math.Min(1, math.Max(0, v)))) }
