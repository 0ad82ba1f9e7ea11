package tensor

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestNewAndCheckShape(t *testing.T) {
	x, err := New(2, 3, 4)
	if err != nil || x.Size() != 24 || x.Dims() != 3 {
		t.Fatalf("New(2,3,4) = %v, %v", x, err)
	}
	for _, bad := range [][]int{{}, {0}, {2, -1}, {1 << 20, 1 << 20}} {
		_, err := New(bad...)
		var te *Error
		if !errors.As(err, &te) || te.Op != "tensor.New" {
			t.Errorf("New(%v): want a *tensor.Error naming tensor.New, got %v", bad, err)
		}
	}
}

func TestErrorNamesOpAndShapes(t *testing.T) {
	err := Errorf("nn.AffineForward", [][]int{{2, 3}, {4}}, "w has %d rows", 4)
	if got, want := err.Error(), "nn.AffineForward ((2, 3), (4,)): w has 4 rows"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestFromDataChecksLength(t *testing.T) {
	if _, err := FromData([]float64{1, 2, 3}, 2, 2); err == nil || !strings.Contains(err.Error(), "needs 4 values, got 3") {
		t.Fatalf("short data: %v", err)
	}
	x, err := FromData([]float64{1, 2, 3, 4}, 2, 2)
	if err != nil || x.Data[3] != 4 {
		t.Fatal(err)
	}
}

func TestReshapeSharesDataAndInfers(t *testing.T) {
	x, _ := FromData([]float64{1, 2, 3, 4, 5, 6}, 2, 3)
	y, err := x.Reshape(3, -1)
	if err != nil || y.Shape[1] != 2 {
		t.Fatalf("Reshape(3,-1) = %v, %v", y, err)
	}
	y.Data[0] = 9
	if x.Data[0] != 9 {
		t.Fatal("Reshape copied instead of viewing")
	}
	for _, bad := range [][]int{{4, 2}, {-1, -1}, {0, 6}, {4, -1}} {
		if _, err := x.Reshape(bad...); err == nil {
			t.Errorf("Reshape(%v) of 6 elements accepted", bad)
		}
	}
}

func TestCloneIsDeep(t *testing.T) {
	x, _ := FromData([]float64{1, 2}, 2)
	c := x.Clone()
	c.Data[0], c.Shape[0] = 7, 5
	if x.Data[0] != 1 || x.Shape[0] != 2 {
		t.Fatal("Clone shares memory")
	}
}

func TestFloat32RoundTripAndNaN(t *testing.T) {
	x, _ := FromData([]float64{0.1, -2, 3.5}, 3)
	y, err := FromFloat32(x.Float32(), 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := range x.Data {
		if math.Abs(y.Data[i]-x.Data[i]) > 1e-7*math.Abs(x.Data[i]) {
			t.Errorf("%d: %v -> %v", i, x.Data[i], y.Data[i])
		}
	}
	if _, err := FromFloat32([]float32{1}, 2); err == nil {
		t.Error("FromFloat32 with the wrong length accepted")
	}
	if x.HasNaN() {
		t.Error("finite tensor reported NaN")
	}
	x.Data[1] = math.Inf(-1)
	if !x.HasNaN() {
		t.Error("Inf not reported")
	}
}

func TestShape4AndRows(t *testing.T) {
	x, _ := New(2, 3, 4, 5)
	n, c, h, w, err := x.Shape4("op")
	if err != nil || n != 2 || c != 3 || h != 4 || w != 5 {
		t.Fatalf("Shape4 = %d %d %d %d %v", n, c, h, w, err)
	}
	if r, d := x.Rows(); r != 2 || d != 60 {
		t.Fatalf("Rows = %d, %d", r, d)
	}
	y, _ := New(2, 3)
	if _, _, _, _, err := y.Shape4("conv"); err == nil || !strings.Contains(err.Error(), "conv") {
		t.Fatalf("2-d Shape4: %v", err)
	}
	var nilT *Tensor
	if _, _, _, _, err := nilT.Shape4("conv"); err == nil {
		t.Fatal("nil Shape4 accepted")
	}
}

func TestRandnIsSeeded(t *testing.T) {
	a, _ := Randn(NewRand(3), 100)
	b, _ := Randn(NewRand(3), 100)
	c, _ := Randn(NewRand(4), 100)
	same, diff := true, false
	for i := range a.Data {
		same = same && a.Data[i] == b.Data[i]
		diff = diff || a.Data[i] != c.Data[i]
	}
	if !same || !diff {
		t.Fatalf("same seed same values: %v, other seed differs: %v", same, diff)
	}
	x, _ := Full(2, 3)
	x.Scale(3).AddScalar(1)
	if x.Data[2] != 7 {
		t.Fatalf("Full/Scale/AddScalar: %v", x.Data)
	}
}
