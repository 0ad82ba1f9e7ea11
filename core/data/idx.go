// Package data loads the image datasets gradlab trains on: the original IDX
// files of Fashion-MNIST and MNIST, the compact pack the web app serves, and a
// seeded synthetic colour-image generator. Images stay uint8 until a batch is
// made, so a whole dataset costs one byte per pixel in the browser.
package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// IDX magic numbers: 0x00000803 is unsigned-byte data with 3 dimensions
// (images), 0x00000801 with 1 dimension (labels).
const (
	idxImagesMagic = 0x00000803
	idxLabelsMagic = 0x00000801
	// maxIDXItems bounds the count in a header so a corrupt file cannot ask
	// for gigabytes before we notice it is short.
	maxIDXItems = 10_000_000
	maxIDXSide  = 4096
)

// ReadIDXImages reads an uncompressed IDX3 image file: count, rows, cols and
// count*rows*cols pixels.
func ReadIDXImages(r io.Reader) (n, h, w int, pix []uint8, err error) {
	var hdr [4]uint32
	// The magic is read on its own so a label file passed by mistake is named
	// as the wrong kind of file rather than as a short one.
	if err := binary.Read(r, binary.BigEndian, &hdr[0]); err != nil {
		return 0, 0, 0, nil, fmt.Errorf("idx images: header: %w", eofIsTruncated(err))
	}
	if hdr[0] != idxImagesMagic {
		return 0, 0, 0, nil, fmt.Errorf("idx images: magic %#08x, want %#08x (not an IDX image file, or still gzipped)", hdr[0], idxImagesMagic)
	}
	if err := binary.Read(r, binary.BigEndian, hdr[1:]); err != nil {
		return 0, 0, 0, nil, fmt.Errorf("idx images: header: %w", eofIsTruncated(err))
	}
	n, h, w = int(hdr[1]), int(hdr[2]), int(hdr[3])
	if n <= 0 || n > maxIDXItems || h <= 0 || h > maxIDXSide || w <= 0 || w > maxIDXSide {
		return 0, 0, 0, nil, fmt.Errorf("idx images: implausible header %d images of %dx%d", n, h, w)
	}
	pix = make([]uint8, n*h*w)
	if _, err := io.ReadFull(r, pix); err != nil {
		return 0, 0, 0, nil, fmt.Errorf("idx images: %d images of %dx%d: %w", n, h, w, eofIsTruncated(err))
	}
	return n, h, w, pix, nil
}

// ReadIDXLabels reads an uncompressed IDX1 label file.
func ReadIDXLabels(r io.Reader) ([]uint8, error) {
	var hdr [2]uint32
	if err := binary.Read(r, binary.BigEndian, &hdr); err != nil {
		return nil, fmt.Errorf("idx labels: header: %w", eofIsTruncated(err))
	}
	if hdr[0] != idxLabelsMagic {
		return nil, fmt.Errorf("idx labels: magic %#08x, want %#08x (not an IDX label file, or still gzipped)", hdr[0], idxLabelsMagic)
	}
	n := int(hdr[1])
	if n <= 0 || n > maxIDXItems {
		return nil, fmt.Errorf("idx labels: implausible count %d", n)
	}
	labels := make([]uint8, n)
	if _, err := io.ReadFull(r, labels); err != nil {
		return nil, fmt.Errorf("idx labels: %d labels: %w", n, eofIsTruncated(err))
	}
	return labels, nil
}

var errTruncated = errors.New("file is truncated")

func eofIsTruncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errTruncated
	}
	return err
}

// openMaybeGzip opens path, transparently gunzipping a .gz file.
func openMaybeGzip(path string) (io.Reader, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(f, 1<<16)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("%s: corrupt gzip: %w", path, err)
		}
		return zr, f.Close, nil
	}
	return br, f.Close, nil
}

// LoadIDX reads an image file and its label file (gzipped or not) into a Set
// with one channel, checking that the counts agree and labels are < classes.
func LoadIDX(name, imagesPath, labelsPath string, classes int) (*Set, error) {
	ir, closeI, err := openMaybeGzip(imagesPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer closeI()
	n, h, w, pix, err := ReadIDXImages(ir)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", name, imagesPath, err)
	}
	lr, closeL, err := openMaybeGzip(labelsPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer closeL()
	labels, err := ReadIDXLabels(lr)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", name, labelsPath, err)
	}
	if len(labels) != n {
		return nil, fmt.Errorf("%s: %d images but %d labels", name, n, len(labels))
	}
	s := &Set{Name: name, N: n, C: 1, H: h, W: w, Classes: classes, Images: pix, Labels: labels}
	return s, s.Validate()
}
