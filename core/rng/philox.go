// Package rng is gradlab's counter-based random generator: Philox4x32-10
// (Salmon et al., "Parallel Random Numbers: As Easy as 1, 2, 3", SC 2011), the
// generator cuRAND and PyTorch use on GPUs.
//
// A counter-based generator has no state to carry: the random word for an
// element is a pure function of (key, counter). That is what lets the WGSL
// dropout kernel in shaders/dropout.wgsl draw exactly the mask the CPU draws,
// with each GPU thread computing its own element and nothing shared.
//
// The exact algorithm, which the shader repeats line for line:
//
//	key     = (k0, k1)         = (low 32 bits of seed, high 32 bits of seed)
//	counter = (c0, c1, c2, c3) = (index / 4, step, stream, 0)
//	10 rounds; before every round but the first, k0 += 0x9E3779B9, k1 += 0xBB67AE85
//	one round: (hi0, lo0) = 0xD2511F53 * c0   (full 64-bit product, split)
//	           (hi1, lo1) = 0xCD9E8D57 * c2
//	           counter = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)
//	word    = counter[index % 4]
//
// All arithmetic is on uint32 with wrap-around; the 32x32->64 product is built
// from 16-bit halves (MulHiLo) because WGSL has no 64-bit integers.
package rng

const (
	philoxM0 = 0xD2511F53
	philoxM1 = 0xCD9E8D57
	philoxW0 = 0x9E3779B9
	philoxW1 = 0xBB67AE85
	rounds   = 10
)

// MulHiLo returns the high and low 32 bits of the 64-bit product a*b using
// only 32-bit operations, exactly as the WGSL kernels do.
func MulHiLo(a, b uint32) (hi, lo uint32) {
	aLo, aHi := a&0xFFFF, a>>16
	bLo, bHi := b&0xFFFF, b>>16
	ll := aLo * bLo
	lh := aLo * bHi
	hl := aHi * bLo
	hh := aHi * bHi
	// mid collects the bits 16..47 that overlap; each term fits in 32 bits.
	mid := (ll >> 16) + (lh & 0xFFFF) + (hl & 0xFFFF)
	hi = hh + (lh >> 16) + (hl >> 16) + (mid >> 16)
	lo = a * b
	return hi, lo
}

// Philox4x32 runs the 10-round Philox bijection on one 128-bit counter.
func Philox4x32(ctr [4]uint32, key [2]uint32) [4]uint32 {
	c0, c1, c2, c3 := ctr[0], ctr[1], ctr[2], ctr[3]
	k0, k1 := key[0], key[1]
	for r := 0; r < rounds; r++ {
		if r > 0 {
			k0 += philoxW0
			k1 += philoxW1
		}
		hi0, lo0 := MulHiLo(philoxM0, c0)
		hi1, lo1 := MulHiLo(philoxM1, c2)
		c0, c1, c2, c3 = hi1^c1^k0, lo1, hi0^c3^k1, lo0
	}
	return [4]uint32{c0, c1, c2, c3}
}

// Uint32 is the random word for element index of (seed, step, stream).
// Four consecutive indices share one Philox block.
func Uint32(seed uint64, step, stream, index uint32) uint32 {
	out := Philox4x32([4]uint32{index >> 2, step, stream, 0}, [2]uint32{uint32(seed), uint32(seed >> 32)})
	return out[index&3]
}

// Float32 maps a word to [0, 1) with 24 bits, exactly representable in f32,
// so the GPU's float is bit-identical to this one.
func Float32(u uint32) float32 { return float32(u>>8) * (1.0 / (1 << 24)) }

// KeepThreshold turns a drop probability p in [0, 1) into the integer
// threshold for Keep. Comparing integers, not floats, is what makes CPU and
// GPU masks identical: the threshold is computed once, here, and uploaded.
func KeepThreshold(p float64) uint32 {
	if p <= 0 {
		return 0
	}
	t := p * (1 << 32)
	if t >= (1<<32)-1 {
		return 1<<32 - 1
	}
	return uint32(t)
}

// Keep reports whether element index survives dropout: P(keep) = 1 - t/2^32.
func Keep(seed uint64, step, stream, index, threshold uint32) bool {
	return Uint32(seed, step, stream, index) >= threshold
}
