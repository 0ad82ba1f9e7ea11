package rng

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"
)

func TestMulHiLoMatches64BitProduct(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := [][2]uint32{{0, 0}, {0xFFFFFFFF, 0xFFFFFFFF}, {philoxM0, 0xFFFFFFFF}, {1, 0xFFFFFFFF}, {0x10000, 0x10000}}
	for i := 0; i < 100000; i++ {
		cases = append(cases, [2]uint32{r.Uint32(), r.Uint32()})
	}
	for _, c := range cases {
		hi, lo := MulHiLo(c[0], c[1])
		wantHi, wantLo := bits.Mul32(c[0], c[1])
		if hi != wantHi || lo != wantLo {
			t.Fatalf("MulHiLo(%#x, %#x) = (%#x, %#x), want (%#x, %#x)", c[0], c[1], hi, lo, wantHi, wantLo)
		}
	}
}

// Known-answer vectors from the Random123 distribution (kat_vectors,
// philox4x32_10), the reference implementation's own test data.
func TestPhiloxKnownAnswers(t *testing.T) {
	cases := []struct {
		ctr  [4]uint32
		key  [2]uint32
		want [4]uint32
	}{
		{[4]uint32{0, 0, 0, 0}, [2]uint32{0, 0}, [4]uint32{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
		{[4]uint32{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, [2]uint32{0xffffffff, 0xffffffff}, [4]uint32{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
		{[4]uint32{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, [2]uint32{0xa4093822, 0x299f31d0}, [4]uint32{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
	}
	for _, c := range cases {
		if got := Philox4x32(c.ctr, c.key); got != c.want {
			t.Errorf("Philox4x32(%#x, %#x) = %#x, want %#x", c.ctr, c.key, got, c.want)
		}
	}
}

func TestUint32IsPureAndSeedSensitive(t *testing.T) {
	a := Uint32(42, 3, 1, 12345)
	if b := Uint32(42, 3, 1, 12345); a != b {
		t.Fatalf("same inputs gave %#x then %#x", a, b)
	}
	differ := 0
	for _, v := range []uint32{Uint32(43, 3, 1, 12345), Uint32(42, 4, 1, 12345), Uint32(42, 3, 2, 12345), Uint32(42, 3, 1, 12346), Uint32(42|1<<40, 3, 1, 12345)} {
		if v != a {
			differ++
		}
	}
	if differ != 5 {
		t.Fatalf("changing seed, step, stream, index or the seed's high word should change the word; %d of 5 did", differ)
	}
}

func TestKeepRateMatchesP(t *testing.T) {
	const n = 200000
	for _, p := range []float64{0, 0.1, 0.3, 0.5, 0.75, 0.98} {
		th := KeepThreshold(p)
		kept := 0
		for i := uint32(0); i < n; i++ {
			if Keep(7, 0, 0, i, th) {
				kept++
			}
		}
		rate := float64(kept) / n
		sd := math.Sqrt(p * (1 - p) / n)
		if math.Abs(rate-(1-p)) > 5*sd+1e-12 {
			t.Errorf("p=%v: keep rate %.5f, want %.5f ± %.5f", p, rate, 1-p, 5*sd)
		}
	}
}

func TestFloat32Range(t *testing.T) {
	if Float32(0) != 0 || Float32(0xFFFFFFFF) >= 1 {
		t.Fatalf("Float32 out of [0,1): %v %v", Float32(0), Float32(0xFFFFFFFF))
	}
	sum := 0.0
	for i := uint32(0); i < 100000; i++ {
		sum += float64(Float32(Uint32(1, 0, 0, i)))
	}
	if m := sum / 100000; math.Abs(m-0.5) > 0.005 {
		t.Fatalf("mean of uniforms %.4f, want 0.5", m)
	}
}
