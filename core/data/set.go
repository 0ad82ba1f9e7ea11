package data

import (
	"fmt"
	"math/rand/v2"

	"gradlab/core/tensor"
)

// Set is a labelled image dataset stored as uint8 NCHW pixels.
type Set struct {
	Name    string
	N       int // images
	C, H, W int
	Classes int
	Images  []uint8 // N*C*H*W, row-major NCHW
	Labels  []uint8 // N, each < Classes
}

// Validate checks sizes and labels, so a corrupt pack or a bad generator is
// caught where it is loaded, not as a wrong answer during training.
func (s *Set) Validate() error {
	if s.N <= 0 || s.C <= 0 || s.H <= 0 || s.W <= 0 {
		return fmt.Errorf("dataset %q: bad size %d images of %dx%dx%d", s.Name, s.N, s.C, s.H, s.W)
	}
	if s.Classes < 2 || s.Classes > 256 {
		return fmt.Errorf("dataset %q: %d classes, want 2..256", s.Name, s.Classes)
	}
	if len(s.Images) != s.N*s.C*s.H*s.W {
		return fmt.Errorf("dataset %q: %d pixels, want %d", s.Name, len(s.Images), s.N*s.C*s.H*s.W)
	}
	if len(s.Labels) != s.N {
		return fmt.Errorf("dataset %q: %d labels for %d images", s.Name, len(s.Labels), s.N)
	}
	for i, l := range s.Labels {
		if int(l) >= s.Classes {
			return fmt.Errorf("dataset %q: label %d of image %d is not below %d classes", s.Name, l, i, s.Classes)
		}
	}
	return nil
}

// ImageSize is C*H*W.
func (s *Set) ImageSize() int { return s.C * s.H * s.W }

// Subset copies the images at idx into a new Set.
func (s *Set) Subset(name string, idx []int) (*Set, error) {
	if len(idx) == 0 {
		return nil, fmt.Errorf("dataset %q: empty subset", s.Name)
	}
	d := s.ImageSize()
	out := &Set{Name: name, N: len(idx), C: s.C, H: s.H, W: s.W, Classes: s.Classes,
		Images: make([]uint8, len(idx)*d), Labels: make([]uint8, len(idx))}
	for j, i := range idx {
		if i < 0 || i >= s.N {
			return nil, fmt.Errorf("dataset %q: index %d out of range [0, %d)", s.Name, i, s.N)
		}
		copy(out.Images[j*d:(j+1)*d], s.Images[i*d:(i+1)*d])
		out.Labels[j] = s.Labels[i]
	}
	return out, nil
}

// Permutation is a seeded shuffle of 0..n-1: same seed, same order, every run.
func Permutation(n int, seed uint64) []int {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	return r.Perm(n)
}

// Split shuffles with seed and holds out nVal images for validation.
func (s *Set) Split(nVal int, seed uint64) (train, val *Set, err error) {
	if nVal <= 0 || nVal >= s.N {
		return nil, nil, fmt.Errorf("dataset %q: validation size %d must be in [1, %d)", s.Name, nVal, s.N)
	}
	p := Permutation(s.N, seed)
	if val, err = s.Subset(s.Name+"-val", p[:nVal]); err != nil {
		return nil, nil, err
	}
	if train, err = s.Subset(s.Name+"-train", p[nVal:]); err != nil {
		return nil, nil, err
	}
	return train, val, nil
}

// Stats returns the per-channel mean and standard deviation of the pixels
// scaled to [0,1]; normalisation uses the training set's, never the test set's.
func (s *Set) Stats() (mean, std []float64) {
	mean, std = make([]float64, s.C), make([]float64, s.C)
	hw := s.H * s.W
	for c := 0; c < s.C; c++ {
		var sum, sq float64
		for n := 0; n < s.N; n++ {
			for _, v := range s.Images[(n*s.C+c)*hw : (n*s.C+c+1)*hw] {
				f := float64(v) / 255
				sum += f
				sq += f * f
			}
		}
		cnt := float64(s.N * hw)
		mean[c] = sum / cnt
		std[c] = max(1e-6, sqrtNonNeg(sq/cnt-mean[c]*mean[c]))
	}
	return mean, std
}

// Normalizer maps uint8 pixels to (v/255 - mean[c]) / std[c].
type Normalizer struct{ Mean, Std []float64 }

// BatchInto writes the normalised images idx into dst (len(idx)*ImageSize)
// and their labels into labels; float32 so the GPU path can upload directly.
func (s *Set) BatchInto(dst []float32, labels []int, idx []int, nz Normalizer) error {
	d := s.ImageSize()
	if len(dst) != len(idx)*d || len(labels) != len(idx) {
		return fmt.Errorf("dataset %q: batch buffers hold %d values and %d labels, want %d and %d", s.Name, len(dst), len(labels), len(idx)*d, len(idx))
	}
	if len(nz.Mean) != s.C || len(nz.Std) != s.C {
		return fmt.Errorf("dataset %q: normaliser has %d/%d channels, want %d", s.Name, len(nz.Mean), len(nz.Std), s.C)
	}
	hw := s.H * s.W
	for j, i := range idx {
		if i < 0 || i >= s.N {
			return fmt.Errorf("dataset %q: index %d out of range [0, %d)", s.Name, i, s.N)
		}
		for c := 0; c < s.C; c++ {
			scale, shift := 1/(255*nz.Std[c]), nz.Mean[c]/nz.Std[c]
			src := s.Images[i*d+c*hw : i*d+(c+1)*hw]
			out := dst[j*d+c*hw : j*d+(c+1)*hw]
			for k, v := range src {
				out[k] = float32(float64(v)*scale - shift)
			}
		}
		labels[j] = int(s.Labels[i])
	}
	return nil
}

// Batch returns the normalised images idx as a float64 NCHW tensor for the
// CPU reference path, with their labels.
func (s *Set) Batch(idx []int, nz Normalizer) (*tensor.Tensor, []int, error) {
	buf := make([]float32, len(idx)*s.ImageSize())
	labels := make([]int, len(idx))
	if len(idx) == 0 {
		return nil, nil, fmt.Errorf("dataset %q: empty batch", s.Name)
	}
	if err := s.BatchInto(buf, labels, idx, nz); err != nil {
		return nil, nil, err
	}
	x, err := tensor.FromFloat32(buf, len(idx), s.C, s.H, s.W)
	return x, labels, err
}

// Batches splits a permutation into consecutive batches of size b; the last
// short batch is dropped when dropLast, as training loops usually do.
func Batches(perm []int, b int, dropLast bool) [][]int {
	if b <= 0 {
		return nil
	}
	var out [][]int
	for i := 0; i < len(perm); i += b {
		j := min(i+b, len(perm))
		if j-i < b && dropLast {
			break
		}
		out = append(out, perm[i:j])
	}
	return out
}
