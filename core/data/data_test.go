package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func idxImages(n, h, w int, fill func(i int) uint8) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, [4]uint32{idxImagesMagic, uint32(n), uint32(h), uint32(w)})
	for i := 0; i < n*h*w; i++ {
		b.WriteByte(fill(i))
	}
	return b.Bytes()
}

func idxLabels(labels []uint8) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, [2]uint32{idxLabelsMagic, uint32(len(labels))})
	b.Write(labels)
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadIDXGzipRoundTrip(t *testing.T) {
	dir := t.TempDir()
	ip := writeFile(t, dir, "i.gz", gz(idxImages(3, 2, 4, func(i int) uint8 { return uint8(i * 7) })))
	lp := writeFile(t, dir, "l", idxLabels([]uint8{2, 0, 9}))
	s, err := LoadIDX("toy", ip, lp, 10)
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 3 || s.H != 2 || s.W != 4 || s.C != 1 || s.Labels[2] != 9 || s.Images[5] != 35 {
		t.Fatalf("loaded %+v", s)
	}
}

func TestLoadIDXRejectsBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := idxImages(3, 2, 2, func(int) uint8 { return 1 })
	labels := idxLabels([]uint8{1, 2, 3})
	badMagic := append([]byte(nil), good...)
	badMagic[3] = 0x01
	cases := []struct {
		name, want string
		img, lab   []byte
	}{
		{"truncated images", "truncated", good[:len(good)-1], labels},
		{"truncated header", "truncated", good[:6], labels},
		{"wrong magic", "magic", badMagic, labels},
		{"labels as images", "magic", labels, labels},
		{"count mismatch", "3 images but 2 labels", good, idxLabels([]uint8{1, 2})},
		{"label out of range", "not below 10", good, idxLabels([]uint8{1, 2, 10})},
		{"corrupt gzip", "corrupt gzip", []byte{0x1f, 0x8b, 0, 0}, labels},
		{"huge count", "implausible", idxImages(0, 2, 2, nil)[:8:8], labels},
	}
	for _, c := range cases {
		img := c.img
		if c.name == "huge count" {
			img = append(img, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 2, 0, 0, 0, 2)
			binary.BigEndian.PutUint32(img[4:], 0xFFFFFFF0)
			img = img[:16]
		}
		ip := writeFile(t, dir, "img", img)
		lp := writeFile(t, dir, "lab", c.lab)
		_, err := LoadIDX("toy", ip, lp, 10)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %q", c.name, err, c.want)
		}
	}
	if _, err := LoadIDX("toy", filepath.Join(dir, "missing"), filepath.Join(dir, "lab"), 10); err == nil {
		t.Error("a missing file loaded")
	}
}

func TestPackRoundTripAndDamage(t *testing.T) {
	a, _ := Synthetic("syn", 20, 8, 9, 1)
	b := &Set{Name: "gray", N: 2, C: 1, H: 2, W: 2, Classes: 3, Images: []uint8{1, 2, 3, 4, 5, 6, 7, 8}, Labels: []uint8{0, 2}}
	var buf bytes.Buffer
	if err := EncodePack(&buf, a, b); err != nil {
		t.Fatal(err)
	}
	sets, err := DecodePack(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	got, err := Find(sets, "syn")
	if err != nil || !bytes.Equal(got.Images, a.Images) || !bytes.Equal(got.Labels, a.Labels) || got.W != 9 {
		t.Fatalf("round trip lost data: %v", err)
	}
	if g, _ := Find(sets, "gray"); g == nil || g.Images[7] != 8 || g.Classes != 3 {
		t.Fatalf("second set wrong: %+v", g)
	}
	raw := buf.Bytes()
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)/2] ^= 0x40
	if _, err := DecodePack(flipped); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("flipped byte: %v", err)
	}
	if _, err := DecodePack(raw[:len(raw)-10]); err == nil {
		t.Error("truncated pack decoded")
	}
	if _, err := DecodePack([]byte("hello world, not a pack")); err == nil || !strings.Contains(err.Error(), "magic") {
		t.Errorf("wrong magic: %v", err)
	}
	// A future version with a valid checksum is refused by version, not by luck.
	var v2 bytes.Buffer
	EncodePack(&v2, b)
	body := v2.Bytes()[:v2.Len()-4]
	binary.LittleEndian.PutUint16(body[6:], 99)
	var resealed bytes.Buffer
	resealed.Write(body)
	binary.Write(&resealed, binary.LittleEndian, crc(body))
	if _, err := DecodePack(resealed.Bytes()); err == nil || !strings.Contains(err.Error(), "version 99") {
		t.Errorf("future version: %v", err)
	}
	if _, err := Find(sets, "nope"); err == nil {
		t.Error("Find found a missing set")
	}
}

func TestSplitIsSeededAndDisjoint(t *testing.T) {
	s, _ := Synthetic("syn", 100, 8, 8, 3)
	tr1, va1, err := s.Split(20, 7)
	if err != nil {
		t.Fatal(err)
	}
	tr2, va2, _ := s.Split(20, 7)
	if !bytes.Equal(va1.Images, va2.Images) || !bytes.Equal(tr1.Labels, tr2.Labels) {
		t.Fatal("same seed gave different splits")
	}
	_, va3, _ := s.Split(20, 8)
	if bytes.Equal(va1.Images, va3.Images) {
		t.Fatal("different seeds gave the same split")
	}
	if tr1.N != 80 || va1.N != 20 {
		t.Fatalf("sizes %d/%d", tr1.N, va1.N)
	}
	for _, bad := range []int{0, 100, -1} {
		if _, _, err := s.Split(bad, 1); err == nil {
			t.Errorf("Split(%d) accepted", bad)
		}
	}
}

func TestBatchNormalises(t *testing.T) {
	s := &Set{Name: "t", N: 2, C: 2, H: 1, W: 2, Classes: 2, Images: []uint8{0, 255, 51, 102, 255, 0, 0, 0}, Labels: []uint8{1, 0}}
	nz := Normalizer{Mean: []float64{0.5, 0.2}, Std: []float64{0.5, 0.1}}
	x, y, err := s.Batch([]int{1, 0}, nz)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{1, -1, -2, -2, -1, 1, 0, 2}
	for i, v := range want {
		if math.Abs(x.Data[i]-v) > 1e-6 {
			t.Fatalf("x[%d] = %v, want %v (all %v)", i, x.Data[i], v, x.Data)
		}
	}
	if y[0] != 0 || y[1] != 1 {
		t.Fatalf("labels %v", y)
	}
	if _, _, err := s.Batch([]int{2}, nz); err == nil {
		t.Error("out-of-range index accepted")
	}
	if _, _, err := s.Batch([]int{0}, Normalizer{Mean: []float64{0}, Std: []float64{1}}); err == nil {
		t.Error("normaliser with wrong channel count accepted")
	}
	mean, std := s.Stats()
	if math.Abs(mean[0]-0.5) > 1e-12 || math.Abs(std[0]-0.5) > 1e-12 {
		t.Fatalf("stats channel 0: %v %v", mean[0], std[0])
	}
}

func TestBatches(t *testing.T) {
	p := []int{0, 1, 2, 3, 4, 5, 6}
	if b := Batches(p, 3, true); len(b) != 2 || len(b[1]) != 3 {
		t.Fatalf("dropLast: %v", b)
	}
	if b := Batches(p, 3, false); len(b) != 3 || len(b[2]) != 1 {
		t.Fatalf("keep last: %v", b)
	}
}

func TestSyntheticIsSeededAndColourCarriesTheFamily(t *testing.T) {
	a, err := Synthetic("s", 200, 16, 16, 5)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Synthetic("s", 200, 16, 16, 5)
	if !bytes.Equal(a.Images, b.Images) || !bytes.Equal(a.Labels, b.Labels) {
		t.Fatal("same seed, different images")
	}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	// Warm classes (0-4) are redder than they are blue; cool ones the reverse.
	hw := 16 * 16
	for i := 0; i < a.N; i++ {
		var r, bl float64
		for k := 0; k < hw; k++ {
			r += float64(a.Images[i*3*hw+k])
			bl += float64(a.Images[i*3*hw+2*hw+k])
		}
		if warm := a.Labels[i] < 5; warm != (r > bl) {
			t.Fatalf("image %d label %d: red %v blue %v", i, a.Labels[i], r, bl)
		}
	}
	seen := map[uint8]bool{}
	for _, l := range a.Labels {
		seen[l] = true
	}
	if len(seen) != 10 {
		t.Fatalf("only %d classes drawn in 200 images", len(seen))
	}
	if _, err := Synthetic("s", 0, 16, 16, 1); err == nil {
		t.Error("zero images accepted")
	}
}

func TestCheatingFeatureEncodesTheLabel(t *testing.T) {
	s, _ := Synthetic("s", 50, 10, 12, 9)
	c, err := WithCheatingFeature(s)
	if err != nil {
		t.Fatal(err)
	}
	hw := 10 * 12
	corners := []int{0, 11, 9 * 12, 9*12 + 11}
	for i := 0; i < c.N; i++ {
		decoded := 0
		for bit, pos := range corners {
			if c.Images[i*3*hw+pos] == 255 {
				decoded |= 1 << bit
			}
		}
		if decoded != int(c.Labels[i]) {
			t.Fatalf("image %d: corners say %d, label %d", i, decoded, c.Labels[i])
		}
	}
	if bytes.Equal(c.Images, s.Images) {
		t.Fatal("the original set was modified or nothing was written")
	}
	many := &Set{Name: "m", N: 1, C: 1, H: 4, W: 4, Classes: 20, Images: make([]uint8, 16), Labels: []uint8{0}}
	if _, err := WithCheatingFeature(many); err == nil {
		t.Error("20 classes accepted in 4 bits")
	}
}

// The real files, when installed (CI installs dataset-fashion-mnist).
func TestFashionMNISTFromDebian(t *testing.T) {
	if _, err := os.Stat(FashionMNISTDir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI must install dataset-fashion-mnist: %v", err)
		}
		t.Skipf("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist): %v", err)
	}
	train, test, err := LoadIDXDir("fashion", FashionMNISTDir)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 60000 || test.N != 10000 || train.H != 28 || train.W != 28 {
		t.Fatalf("sizes: train %d test %d %dx%d", train.N, test.N, train.H, train.W)
	}
	var counts [10]int
	for _, l := range test.Labels {
		counts[l]++
	}
	for c, n := range counts {
		if n != 1000 {
			t.Fatalf("class %d has %d test images, Fashion-MNIST has 1000 each", c, n)
		}
	}
}

func TestPackGzipRoundTrip(t *testing.T) {
	a, _ := Synthetic("syn", 30, 8, 8, 4)
	var buf bytes.Buffer
	if err := WritePackGzip(&buf, a); err != nil {
		t.Fatal(err)
	}
	if buf.Bytes()[0] != 0x1f {
		t.Fatal("not gzip")
	}
	sets, err := ReadPack(bytes.NewReader(buf.Bytes()))
	if err != nil || !bytes.Equal(sets[0].Images, a.Images) {
		t.Fatalf("gzip round trip: %v", err)
	}
	var raw bytes.Buffer
	EncodePack(&raw, a)
	if sets, err := ReadPack(&raw); err != nil || sets[0].N != 30 {
		t.Fatalf("plain pack through ReadPack: %v", err)
	}
	trunc := buf.Bytes()[:buf.Len()/2]
	if _, err := ReadPack(bytes.NewReader(trunc)); err == nil {
		t.Fatal("truncated gzip pack accepted")
	}
}
