package data

import "fmt"

// CheatingBits is how many label bits the cheating feature writes.
const CheatingBits = 4

// WithCheatingFeature returns a copy of s whose images carry their own label
// as 4 bits in the four corner pixels (255 for a one, 0 for a zero, in every
// channel): the dropout notebook's "cheating feature". A network trained on it
// can lean on four pixels alone; tested on clean images it shows how much it
// did. Dropout makes that single shortcut unreliable during training.
func WithCheatingFeature(s *Set) (*Set, error) {
	if s.Classes > 1<<CheatingBits {
		return nil, fmt.Errorf("cheating feature: %d classes do not fit in %d bits", s.Classes, CheatingBits)
	}
	if s.H < 2 || s.W < 2 {
		return nil, fmt.Errorf("cheating feature: images of %dx%d have no four corners", s.H, s.W)
	}
	out := *s
	out.Name = s.Name + "-cheat"
	out.Images = append([]uint8(nil), s.Images...)
	corners := []int{0, s.W - 1, (s.H-1)*s.W + 0, (s.H-1)*s.W + s.W - 1}
	hw, d := s.H*s.W, s.ImageSize()
	for i := 0; i < s.N; i++ {
		l := s.Labels[i]
		for b, pos := range corners {
			v := uint8(0)
			if l>>b&1 == 1 {
				v = 255
			}
			for c := 0; c < s.C; c++ {
				out.Images[i*d+c*hw+pos] = v
			}
		}
	}
	return &out, nil
}
