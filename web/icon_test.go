package web

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
)

func TestIconPNGDrawsNablaOnBackground(t *testing.T) {
	for _, size := range []int{192, 512} {
		b, err := IconPNG(size)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("size %d: not a PNG: %v", size, err)
		}
		if got := img.Bounds().Dx(); got != size || img.Bounds().Dy() != size {
			t.Fatalf("size %d: image is %v", size, img.Bounds())
		}
		// A corner is background; the middle of the top edge of the
		// triangle is stroke.
		if r, g, b, _ := img.At(0, 0).RGBA(); r>>8 != 0x1d || g>>8 != 0x4e || b>>8 != 0x89 {
			t.Errorf("size %d: corner is not the background colour", size)
		}
		x, y := size/2, int((nablaTop+nablaStroke/2)*float64(size))
		if r, g, b, _ := img.At(x, y).RGBA(); r>>8 != 0xff || g>>8 != 0xff || b>>8 != 0xff {
			t.Errorf("size %d: (%d,%d) on the top stroke is not white", size, x, y)
		}
		// The centre of the triangle is hollow.
		y = int((nablaTop + 0.4*(nablaBottom-nablaTop)) * float64(size))
		if r, _, _, _ := img.At(size/2, y).RGBA(); r>>8 == 0xff {
			t.Errorf("size %d: triangle interior is filled", size)
		}
	}
}

func TestIconPNGRejectsBadSize(t *testing.T) {
	for _, size := range []int{0, -1, 8, 5000} {
		if _, err := IconPNG(size); err == nil || !strings.Contains(err.Error(), "IconPNG") {
			t.Errorf("size %d: want an error naming IconPNG, got %v", size, err)
		}
	}
}

func TestIconSVGAndStylesheetAreThere(t *testing.T) {
	if s := string(IconSVG()); !strings.HasPrefix(s, "<svg") || !strings.Contains(s, "<path") {
		t.Errorf("IconSVG is not an SVG with a path: %q", s)
	}
	css, err := Assets.ReadFile("gradlab.css")
	if err != nil || !bytes.Contains(css, []byte(":focus-visible")) {
		t.Errorf("gradlab.css missing or without focus styles (err %v)", err)
	}
}
