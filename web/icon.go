package web

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
)

// The icon is a white nabla (the gradient operator) on a blue square.
var (
	iconBackground = color.RGBA{0x1d, 0x4e, 0x89, 0xff}
	iconForeground = color.RGBA{0xff, 0xff, 0xff, 0xff}
)

// Triangle corners as fractions of the icon size. They stay inside the
// central 80% circle that maskable icons guarantee to show.
const (
	nablaTop    = 0.30
	nablaBottom = 0.74
	nablaHalf   = 0.25 // half width of the top edge
	nablaStroke = 0.07 // stroke width
)

// IconPNG draws the icon as a size×size PNG.
func IconPNG(size int) ([]byte, error) {
	if size < 16 || size > 4096 {
		return nil, fmt.Errorf("web.IconPNG: size %d outside [16, 4096]", size)
	}
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	s := float64(size)
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			// Sample the pixel centre in unit coordinates.
			u, v := (float64(x)+0.5)/s, (float64(y)+0.5)/s
			c := iconBackground
			if inNabla(u, v, 0) && !inNabla(u, v, nablaStroke) {
				c = iconForeground
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("web.IconPNG: %w", err)
	}
	return buf.Bytes(), nil
}

// inNabla reports whether (u, v) lies inside the downward triangle shrunk by
// inset on every side (approximately: the slanted sides move by inset
// horizontally, which is close enough for a stroke).
func inNabla(u, v, inset float64) bool {
	top, bottom := nablaTop+inset, nablaBottom-2*inset
	if v < top || v > bottom {
		return false
	}
	// Half width shrinks linearly from the top edge to the apex.
	half := (nablaHalf - inset) * (nablaBottom - v) / (nablaBottom - nablaTop)
	return u >= 0.5-half && u <= 0.5+half
}

// IconSVG is the same icon as a vector, for browsers that prefer one.
func IconSVG() []byte {
	l, r := 0.5-nablaHalf, 0.5+nablaHalf
	return []byte(fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">`+
		`<rect width="100" height="100" fill="#1d4e89"/>`+
		`<path d="M%.1f %.1f H%.1f L50 %.1f Z" fill="none" stroke="#fff" stroke-width="%.1f" stroke-linejoin="round"/>`+
		`</svg>`, l*100, nablaTop*100+3.5, r*100, nablaBottom*100-3.5, nablaStroke*100))
}
