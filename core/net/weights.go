package net

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
)

// Trained weights are saved in one small binary file, little-endian:
//
//	"GLWTS\x00"          6 bytes  magic
//	version              uint16   (WeightsVersion)
//	arch length          uint32, then the architecture string (Spec.String())
//	tensor count         uint32
//	per tensor:
//	  name length        uint16, then the name ("L0.W", "L1.running_mean", ...)
//	  dims               uint8, then each dimension as uint32
//	  values             float32 each (the GPU trains in f32; so are the files)
//	crc32                uint32   IEEE CRC of every byte before it
//
// Batchnorm running statistics are saved too: test-mode predictions need them.
// Loading checks the architecture string first, so weights are never poured
// into a different network.
const (
	weightsMagic   = "GLWTS\x00"
	WeightsVersion = 1
)

// namedTensors lists everything that is saved, in a fixed order.
func (n *Net) namedTensors() []struct {
	name  string
	data  []float64
	shape []int
} {
	type nt = struct {
		name  string
		data  []float64
		shape []int
	}
	var out []nt
	for _, p := range n.Params {
		out = append(out, nt{p.Name, p.Value.Data, p.Value.Shape})
	}
	for i, bp := range n.BN {
		if bp != nil {
			out = append(out, nt{fmt.Sprintf("L%d.running_mean", i), bp.RunningMean.Data, bp.RunningMean.Shape})
			out = append(out, nt{fmt.Sprintf("L%d.running_var", i), bp.RunningVar.Data, bp.RunningVar.Shape})
		}
	}
	return out
}

// Save writes the weights and running statistics.
func (n *Net) Save(w io.Writer) error {
	var b bytes.Buffer
	put := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString(weightsMagic)
	put(uint16(WeightsVersion))
	arch := n.Spec.String()
	put(uint32(len(arch)))
	b.WriteString(arch)
	ts := n.namedTensors()
	put(uint32(len(ts)))
	for _, t := range ts {
		put(uint16(len(t.name)))
		b.WriteString(t.name)
		b.WriteByte(uint8(len(t.shape)))
		for _, d := range t.shape {
			put(uint32(d))
		}
		for _, v := range t.data {
			put(math.Float32bits(float32(v)))
		}
	}
	put(crc32.ChecksumIEEE(b.Bytes()))
	_, err := w.Write(b.Bytes())
	return err
}

// Load reads weights saved by Save into n, refusing a damaged file, another
// version, or weights of a different architecture. n is unchanged on error.
func (n *Net) Load(data []byte) error {
	if len(data) < len(weightsMagic)+2+4+4 || string(data[:len(weightsMagic)]) != weightsMagic {
		return fmt.Errorf("weights: not a gradlab weights file")
	}
	body := data[:len(data)-4]
	if got, want := crc32.ChecksumIEEE(body), binary.LittleEndian.Uint32(data[len(data)-4:]); got != want {
		return fmt.Errorf("weights: checksum %08x, file says %08x: the file is damaged or incomplete", got, want)
	}
	r := bytes.NewReader(body[len(weightsMagic):])
	var version uint16
	var archLen, count uint32
	if err := binary.Read(r, binary.LittleEndian, &version); err != nil {
		return fmt.Errorf("weights: %w", err)
	}
	if version != WeightsVersion {
		return fmt.Errorf("weights: version %d, this gradlab reads version %d", version, WeightsVersion)
	}
	if err := binary.Read(r, binary.LittleEndian, &archLen); err != nil || int64(archLen) > int64(r.Len()) {
		return fmt.Errorf("weights: truncated architecture")
	}
	arch := make([]byte, archLen)
	io.ReadFull(r, arch)
	if want := n.Spec.String(); string(arch) != want {
		return fmt.Errorf("weights: saved for a different network:\n  file:    %s\n  network: %s", arch, want)
	}
	ts := n.namedTensors()
	if err := binary.Read(r, binary.LittleEndian, &count); err != nil || int(count) != len(ts) {
		return fmt.Errorf("weights: %d tensors in the file, the network has %d", count, len(ts))
	}
	staged := make([][]float64, len(ts))
	for i, t := range ts {
		var nameLen uint16
		if err := binary.Read(r, binary.LittleEndian, &nameLen); err != nil || int(nameLen) > r.Len() {
			return fmt.Errorf("weights: truncated at tensor %d", i)
		}
		name := make([]byte, nameLen)
		io.ReadFull(r, name)
		dims, err := r.ReadByte()
		if err != nil || string(name) != t.name || int(dims) != len(t.shape) {
			return fmt.Errorf("weights: tensor %d is %q with %d dims, want %q with %d", i, name, dims, t.name, len(t.shape))
		}
		for _, d := range t.shape {
			var got uint32
			if err := binary.Read(r, binary.LittleEndian, &got); err != nil || int(got) != d {
				return fmt.Errorf("weights: %s has a different shape than %v", t.name, t.shape)
			}
		}
		raw := make([]uint32, len(t.data))
		if err := binary.Read(r, binary.LittleEndian, raw); err != nil {
			return fmt.Errorf("weights: %s: truncated values", t.name)
		}
		staged[i] = make([]float64, len(raw))
		for j, u := range raw {
			v := float64(math.Float32frombits(u))
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("weights: %s[%d] is %v", t.name, j, v)
			}
			staged[i][j] = v
		}
	}
	if r.Len() != 0 {
		return fmt.Errorf("weights: %d unexpected bytes after the last tensor", r.Len())
	}
	for i, t := range ts {
		copy(t.data, staged[i])
	}
	return nil
}
