package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
)

// The pack is the one compact file the web app downloads and the service
// worker caches: several labelled uint8 image sets behind a versioned header,
// sealed by a checksum so a half-downloaded or damaged file is refused.
//
// Layout, little-endian:
//
//	"GLPACK"        6 bytes  magic
//	version         uint16   (PackVersion)
//	sets            uint16
//	per set:
//	  name length   uint16, then the name in UTF-8
//	  N             uint32   images
//	  C, H, W       uint16 each
//	  classes       uint16
//	  labels        N bytes
//	  images        N*C*H*W bytes, NCHW
//	crc32           uint32   IEEE CRC of every byte before it
const (
	packMagic   = "GLPACK"
	PackVersion = 1
)

// EncodePack writes sets as one pack.
func EncodePack(w io.Writer, sets ...*Set) error {
	if len(sets) == 0 || len(sets) > 0xFFFF {
		return fmt.Errorf("pack: %d sets, want 1..65535", len(sets))
	}
	var buf bytes.Buffer
	buf.WriteString(packMagic)
	put := func(v any) { _ = binary.Write(&buf, binary.LittleEndian, v) }
	put(uint16(PackVersion))
	put(uint16(len(sets)))
	for _, s := range sets {
		if err := s.Validate(); err != nil {
			return fmt.Errorf("pack: %w", err)
		}
		if len(s.Name) > 0xFFFF || s.C > 0xFFFF || s.H > 0xFFFF || s.W > 0xFFFF || s.N > 0xFFFFFFFF {
			return fmt.Errorf("pack: dataset %q too large for the format", s.Name)
		}
		put(uint16(len(s.Name)))
		buf.WriteString(s.Name)
		put(uint32(s.N))
		put([4]uint16{uint16(s.C), uint16(s.H), uint16(s.W), uint16(s.Classes)})
		buf.Write(s.Labels)
		buf.Write(s.Images)
	}
	put(crc32.ChecksumIEEE(buf.Bytes()))
	_, err := w.Write(buf.Bytes())
	return err
}

// DecodePack parses and verifies a pack. The returned sets alias b.
func DecodePack(b []byte) ([]*Set, error) {
	if len(b) < len(packMagic)+4+4 {
		return nil, fmt.Errorf("pack: %d bytes is too short to be a gradlab data pack", len(b))
	}
	if string(b[:len(packMagic)]) != packMagic {
		return nil, fmt.Errorf("pack: bad magic %q, want %q", b[:len(packMagic)], packMagic)
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if got := crc32.ChecksumIEEE(body); got != sum {
		return nil, fmt.Errorf("pack: checksum %08x, file says %08x: the file is damaged or incomplete", got, sum)
	}
	r := packReader{b: body, off: len(packMagic)}
	if v := r.u16(); v != PackVersion {
		return nil, fmt.Errorf("pack: version %d, this gradlab reads version %d", v, PackVersion)
	}
	n := int(r.u16())
	sets := make([]*Set, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		s := &Set{Name: string(r.bytes(int(r.u16())))}
		s.N = int(r.u32())
		s.C, s.H, s.W, s.Classes = int(r.u16()), int(r.u16()), int(r.u16()), int(r.u16())
		s.Labels = r.bytes(s.N)
		s.Images = r.bytes(s.N * s.C * s.H * s.W)
		if r.err != nil {
			break
		}
		if err := s.Validate(); err != nil {
			return nil, fmt.Errorf("pack: set %d: %w", i, err)
		}
		sets = append(sets, s)
	}
	if r.err != nil {
		return nil, fmt.Errorf("pack: %w", r.err)
	}
	if r.off != len(body) {
		return nil, fmt.Errorf("pack: %d unexpected bytes after the last set", len(body)-r.off)
	}
	return sets, nil
}

type packReader struct {
	b   []byte
	off int
	err error
}

func (r *packReader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || r.off+n > len(r.b) {
		r.err = fmt.Errorf("truncated at byte %d (needed %d more)", r.off, n)
		return nil
	}
	out := r.b[r.off : r.off+n]
	r.off += n
	return out
}

func (r *packReader) u16() uint16 {
	if b := r.bytes(2); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (r *packReader) u32() uint32 {
	if b := r.bytes(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

// Find returns the set with the given name.
func Find(sets []*Set, name string) (*Set, error) {
	for _, s := range sets {
		if s.Name == name {
			return s, nil
		}
	}
	return nil, fmt.Errorf("pack: no dataset named %q", name)
}

func crc(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

// ReadPack reads a pack, gunzipping it first when it is gzip-compressed (the
// site serves packs as .glpack.gz: Fashion-MNIST is 55 MB raw, about a
// third of that compressed).
func ReadPack(r io.Reader) ([]*Set, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("pack: corrupt gzip: %w", err)
		}
		r = zr
	} else {
		r = br
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	return DecodePack(b)
}

// WritePackGzip writes sets as a gzip-compressed pack.
func WritePackGzip(w io.Writer, sets ...*Set) error {
	zw, err := gzip.NewWriterLevel(w, gzip.DefaultCompression)
	if err != nil {
		return err
	}
	if err := EncodePack(zw, sets...); err != nil {
		return err
	}
	return zw.Close()
}
