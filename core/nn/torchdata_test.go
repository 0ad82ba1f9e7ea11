package nn_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gradlab/core/gradcheck"
	"gradlab/core/tensor"
)

// The PyTorch reference files are written by testdata/torch/make_reference.py
// (see its docstring and testdata/torch/README.md for the format). Tests only
// read them, so CI needs no PyTorch.
const (
	torchDir     = "../../testdata/torch"
	torchFormat  = "gradlab-torch-reference"
	torchVersion = 1
	torchSums    = "SHA256SUMS"

	// torchTol is the agreement demanded from gradlab's float64 layers: both
	// sides compute in float64, so only summation order separates them and
	// the errors seen are ~1e-13; 1e-9 leaves room for cancellation, nothing
	// more. Never raise it to make a test pass.
	torchTol = 1e-9
)

type torchTensor struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

// torchParams is the union of every op family's hyper-parameters; each file
// fills in the ones its op has.
type torchParams struct {
	Stride int  `json:"stride"`
	Pad    int  `json:"pad"`
	Groups int  `json:"groups"`
	Bias   bool `json:"bias"`
	// Exact is false where PyTorch floors the output size because the last
	// window does not end on the input's (padded) edge.
	Exact bool `json:"exact"`

	Eps      float64 `json:"eps"`
	Momentum float64 `json:"momentum"`
	Spatial  bool    `json:"spatial"`
	Count    int     `json:"count"`
	Prev     bool    `json:"prev"`

	Height int `json:"height"`
	Width  int `json:"width"`

	Labels []int `json:"labels"`
}

type torchCase struct {
	Name    string                 `json:"name"`
	Params  torchParams            `json:"params"`
	Tensors map[string]torchTensor `json:"tensors"`
	file    string
}

type torchFile struct {
	Format  string      `json:"format"`
	Version int         `json:"version"`
	Op      string      `json:"op"`
	Torch   string      `json:"torch"`
	Seed    int64       `json:"seed"`
	Notes   string      `json:"notes"`
	Cases   []torchCase `json:"cases"`
}

// loadTorchFile reads dir/name, checks it against dir/SHA256SUMS and its own
// header (format, version, op), and checks every tensor's shape against its
// data, so a damaged file is an error that names the file instead of a panic
// or, worse, a comparison against wrong numbers.
func loadTorchFile(dir, name, op string) (*torchFile, error) {
	path := filepath.Join(dir, name)
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("torch reference %s: %w", path, err)
	}
	want, err := torchChecksum(dir, name)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	if got := hex.EncodeToString(sum[:]); got != want {
		return nil, fmt.Errorf("torch reference %s: sha256 %s does not match %s entry %s: the file is corrupt or truncated (%d bytes); regenerate it with make_reference.py", path, got, torchSums, want, len(raw))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var f torchFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("torch reference %s: decoding JSON: %w", path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("torch reference %s: data after the JSON object", path)
	}
	switch {
	case f.Format != torchFormat:
		return nil, fmt.Errorf("torch reference %s: format %q, want %q", path, f.Format, torchFormat)
	case f.Version != torchVersion:
		return nil, fmt.Errorf("torch reference %s: version %d, this loader reads %d", path, f.Version, torchVersion)
	case f.Op != op:
		return nil, fmt.Errorf("torch reference %s: op %q, want %q", path, f.Op, op)
	case len(f.Cases) == 0:
		return nil, fmt.Errorf("torch reference %s: no cases", path)
	}
	seen := map[string]bool{}
	for i := range f.Cases {
		c := &f.Cases[i]
		c.file = name
		if c.Name == "" || seen[c.Name] {
			return nil, fmt.Errorf("torch reference %s: case %d has an empty or repeated name %q", path, i, c.Name)
		}
		seen[c.Name] = true
		if len(c.Tensors) == 0 {
			return nil, fmt.Errorf("torch reference %s: case %s has no tensors", path, c.Name)
		}
		for tn, t := range c.Tensors {
			n, err := tensor.CheckShape(tn, t.Shape)
			if err != nil {
				return nil, fmt.Errorf("torch reference %s: case %s: %w", path, c.Name, err)
			}
			if n != len(t.Data) {
				return nil, fmt.Errorf("torch reference %s: case %s: tensor %s has shape %s (%d values) but %d values", path, c.Name, tn, tensor.ShapeString(t.Shape), n, len(t.Data))
			}
		}
	}
	return &f, nil
}

// torchChecksum returns name's digest from dir/SHA256SUMS (sha256sum format).
func torchChecksum(dir, name string) (string, error) {
	path := filepath.Join(dir, torchSums)
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("torch reference %s: %w", path, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		digest, file, ok := strings.Cut(sc.Text(), "  ")
		if ok && file == name {
			if len(digest) != 2*sha256.Size {
				return "", fmt.Errorf("torch reference %s: malformed digest for %s", path, name)
			}
			return digest, nil
		}
	}
	return "", fmt.Errorf("torch reference %s: no entry for %s", path, name)
}

// tensor returns a fresh copy of the named tensor, so a layer that writes to
// its input cannot spoil a later comparison.
func (c *torchCase) tensor(name string) (*tensor.Tensor, error) {
	t, ok := c.Tensors[name]
	if !ok {
		return nil, fmt.Errorf("torch reference %s: case %s has no tensor %q", c.file, c.Name, name)
	}
	return tensor.FromData(append([]float64(nil), t.Data...), t.Shape...)
}

// mustLoadTorch loads a committed reference file or fails the test.
func mustLoadTorch(t *testing.T, name, op string) *torchFile {
	t.Helper()
	f, err := loadTorchFile(torchDir, name, op)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (c *torchCase) must(t *testing.T, name string) *tensor.Tensor {
	t.Helper()
	x, err := c.tensor(name)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// expectTorch fails unless got matches the case's tensor want to torchTol,
// and on failure names the worst element so a wrong layer is easy to find.
func expectTorch(t *testing.T, c *torchCase, what string, got *tensor.Tensor, want string) {
	t.Helper()
	ref := c.must(t, want)
	if got == nil {
		t.Errorf("%s/%s: %s is nil, PyTorch gives shape %s", c.file, c.Name, what, tensor.ShapeString(ref.Shape))
		return
	}
	rel, err := gradcheck.RelError(got, ref)
	if err != nil {
		t.Errorf("%s/%s: %s: %v", c.file, c.Name, what, err)
		return
	}
	if rel <= torchTol {
		return
	}
	worst, at := -1.0, 0
	for i := range ref.Data {
		d := math.Abs(got.Data[i]-ref.Data[i]) / math.Max(1e-8, math.Abs(got.Data[i])+math.Abs(ref.Data[i]))
		if math.IsNaN(d) || d > worst {
			worst, at = d, i
			if math.IsNaN(d) {
				break
			}
		}
	}
	t.Errorf("%s/%s: %s shape %s: rel error %.3g > %g; worst at %v: got %.17g, PyTorch %.17g",
		c.file, c.Name, what, tensor.ShapeString(ref.Shape), rel, torchTol, torchUnravel(at, ref.Shape), got.Data[at], ref.Data[at])
}

// torchUnravel turns a flat row-major index into a multi-index.
func torchUnravel(i int, shape []int) []int {
	idx := make([]int, len(shape))
	for d := len(shape) - 1; d >= 0; d-- {
		idx[d] = i % shape[d]
		i /= shape[d]
	}
	return idx
}

// TestTorchLoaderRejectsDamage damages a copy of a reference file in every way
// the loader guards against and checks each gives an error naming the file
// and the fault, never a panic or a silently wrong comparison.
func TestTorchLoaderRejectsDamage(t *testing.T) {
	const name, op = "softmax.json", "cross_entropy"
	good, err := os.ReadFile(filepath.Join(torchDir, name))
	if err != nil {
		t.Fatal(err)
	}
	reencode := func(edit func(f *torchFile)) []byte {
		var f torchFile
		if err := json.Unmarshal(good, &f); err != nil {
			t.Fatal(err)
		}
		edit(&f)
		out, err := json.Marshal(&f)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	digest := func(b []byte) string {
		s := sha256.Sum256(b)
		return hex.EncodeToString(s[:])
	}
	flipped := append([]byte(nil), good...)
	at := bytes.Index(flipped, []byte(`"data":[`)) + len(`"data":[`) + 3
	flipped[at] = '0' + (flipped[at]-'0'+1)%10

	cases := []struct {
		name    string
		content []byte
		sums    string // SHA256SUMS content; "" means the correct digest of content
		want    string
	}{
		{"truncated", good[:len(good)/2], digest(good), "corrupt or truncated"},
		{"digit changed", flipped, digest(good), "corrupt or truncated"},
		{"empty file", nil, digest(good), "corrupt or truncated"},
		{"truncated JSON with matching sum", good[:len(good)/2], "", "decoding JSON"},
		{"trailing data", append(append([]byte(nil), good...), "{}"...), "", "data after"},
		{"unknown field", bytes.Replace(good, []byte(`"notes"`), []byte(`"nots"`), 1), "", "decoding JSON"},
		{"wrong format", reencode(func(f *torchFile) { f.Format = "something-else" }), "", "format"},
		{"wrong version", reencode(func(f *torchFile) { f.Version = 99 }), "", "version 99"},
		{"no cases", reencode(func(f *torchFile) { f.Cases = nil }), "", "no cases"},
		{"repeated case", reencode(func(f *torchFile) { f.Cases[1].Name = f.Cases[0].Name }), "", "repeated name"},
		{"short data", reencode(func(f *torchFile) {
			x := f.Cases[0].Tensors["x"]
			x.Data = x.Data[:len(x.Data)-1]
			f.Cases[0].Tensors["x"] = x
		}), "", "values"},
		{"bad shape", reencode(func(f *torchFile) {
			x := f.Cases[0].Tensors["x"]
			x.Shape = []int{-len(x.Data)}
			f.Cases[0].Tensors["x"] = x
		}), "", "positive"},
		{"missing sum entry", good, "0000  other.json\n", "no entry"},
		{"malformed sum", good, "abc  " + name + "\n", "malformed digest"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			sums := tc.sums
			if sums == "" {
				sums = digest(tc.content)
			}
			if !strings.Contains(sums, "  ") {
				sums += "  " + name + "\n"
			}
			if err := os.WriteFile(filepath.Join(dir, name), tc.content, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, torchSums), []byte(sums), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := loadTorchFile(dir, name, op)
			if err == nil {
				t.Fatalf("loaded a damaged file (%d cases)", len(f.Cases))
			}
			if !strings.Contains(err.Error(), name) && !strings.Contains(err.Error(), torchSums) {
				t.Errorf("error %q does not name the file", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}

	t.Run("missing file", func(t *testing.T) {
		if _, err := loadTorchFile(t.TempDir(), name, op); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("missing file: error %v, want one naming %s", err, name)
		}
	})
	t.Run("wrong op", func(t *testing.T) {
		if _, err := loadTorchFile(torchDir, name, "conv2d"); err == nil || !strings.Contains(err.Error(), `want "conv2d"`) {
			t.Errorf("wrong op: error %v", err)
		}
	})
	t.Run("missing tensor", func(t *testing.T) {
		f, err := loadTorchFile(torchDir, name, op)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Cases[0].tensor("nope"); err == nil || !strings.Contains(err.Error(), `no tensor "nope"`) || !strings.Contains(err.Error(), name) {
			t.Errorf("missing tensor: error %v", err)
		}
	})
}

// TestTorchReferenceFilesLoad checks every committed file against its
// checksum and header, and that a regenerated file still covers what the
// comparisons are meant to exercise (a shrunken data set would pass silently).
func TestTorchReferenceFilesLoad(t *testing.T) {
	conv := mustLoadTorch(t, "conv.json", "conv2d")
	seen := map[string]bool{}
	for _, c := range conv.Cases {
		p := c.Params
		w := c.Tensors["w"].Shape
		x := c.Tensors["x"].Shape
		seen[fmt.Sprintf("stride%d", p.Stride)] = true
		seen[fmt.Sprintf("pad%d", p.Pad)] = true
		seen[fmt.Sprintf("k%dx%d", w[2], w[3])] = true
		seen["bias="+fmt.Sprint(p.Bias)] = true
		seen["exact="+fmt.Sprint(p.Exact)] = true
		if p.Groups > 1 && p.Groups == x[1] {
			seen["depthwise"] = true
		}
		if x[0] == 1 {
			seen["batch1"] = true
		}
		if x[1]%4 != 0 {
			seen["channels%4!=0"] = true
		}
		if x[2]%2 == 1 || x[3]%2 == 1 {
			seen["odd"] = true
		}
	}
	torchRequireSeen(t, "conv.json", seen, "stride1", "stride2", "stride3", "pad0", "pad1", "pad2",
		"k1x1", "k3x3", "k5x5", "k2x3", "bias=true", "bias=false", "exact=true", "exact=false",
		"depthwise", "batch1", "channels%4!=0", "odd")

	bn := mustLoadTorch(t, "batchnorm.json", "batch_norm")
	seen = map[string]bool{}
	for _, c := range bn.Cases {
		seen["spatial="+fmt.Sprint(c.Params.Spatial)] = true
		seen["prev="+fmt.Sprint(c.Params.Prev)] = true
	}
	torchRequireSeen(t, "batchnorm.json", seen, "spatial=true", "spatial=false", "prev=true", "prev=false")

	pool := mustLoadTorch(t, "maxpool.json", "max_pool2d")
	seen = map[string]bool{}
	for _, c := range pool.Cases {
		p := c.Params
		if p.Height != p.Width {
			seen["non-square"] = true
		}
		if p.Stride < p.Height || p.Stride < p.Width {
			seen["overlap"] = true
		}
		seen["exact="+fmt.Sprint(p.Exact)] = true
	}
	torchRequireSeen(t, "maxpool.json", seen, "non-square", "overlap", "exact=true", "exact=false")

	mustLoadTorch(t, "softmax.json", "cross_entropy")
}

func torchRequireSeen(t *testing.T, file string, seen map[string]bool, want ...string) {
	t.Helper()
	for _, w := range want {
		if !seen[w] {
			t.Errorf("%s has no case with %s", file, w)
		}
	}
}
