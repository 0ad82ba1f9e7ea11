package nn

// A small matrix product for the fast convolution. Built on gonum's Dgemm
// (SSE2 kernels on amd64), the fast path measured only 7.7x (forward) and
// 4.8x (backward) the naive loops on the two-core benchmark layer, short of
// the 10x target, so the products run here instead. A register-blocked micro-kernel multiplies a
// strip of gemmMR rows of A by a strip of gemmNR columns of B into one tile of
// C. It reads A through a row and a column stride, so a transposed operand
// needs no copy, and B row by row with a row stride, so B is copied into
// strips ("packed") only when its columns are not contiguous. Ragged edges go
// through small zero-padded copies. On amd64 with AVX and FMA the kernel is
// assembly (conv_gemm_amd64.s); everywhere else, including the wasm build, it
// is gemmKernelGo.

const (
	gemmMR = 4
	gemmNR = 8
	// gemmKC bounds the k extent handled at once, so a strip of B (KC*NR
	// values, 16 KiB) stays in L1 while every strip of A passes over it.
	gemmKC = 256
)

// gemmScratch holds one goroutine's packing buffers, reused across calls.
type gemmScratch struct {
	b, bEdge, aEdge []float64
}

func growTo(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// mulAdd computes C += A*B, or C = A*B when overwrite is set (C's old
// contents are then never read), with A (m x k) read as a[i*ars + l*acs],
// B (k x n) read as b[l*brs + j*bcs] and C (m x n) stored row-major with row
// stride ldc. The strides let callers use transposes without copying them
// first.
func (s *gemmScratch) mulAdd(m, n, k int, a []float64, ars, acs int, b []float64, brs, bcs int, c []float64, ldc int, overwrite bool) {
	np := (n + gemmNR - 1) / gemmNR
	for k0 := 0; k0 < k; k0 += gemmKC {
		kc := min(gemmKC, k-k0)
		bk := b[k0*brs:]
		if bcs != 1 {
			s.b = growTo(s.b, np*kc*gemmNR)
			packStrips(s.b, n, kc, gemmNR, bk, bcs, brs)
		}
		s.tiles(m, n, kc, a[k0*acs:], ars, acs, func(jp int) ([]float64, int) {
			j0 := jp * gemmNR
			switch {
			case bcs != 1:
				return s.b[jp*kc*gemmNR:][:kc*gemmNR], gemmNR
			case j0+gemmNR <= n:
				return bk[j0:], brs
			}
			s.bEdge = growTo(s.bEdge, kc*gemmNR)
			packStrips(s.bEdge, n-j0, kc, gemmNR, bk[j0:], 1, brs)
			return s.bEdge, gemmNR
		}, c, ldc, overwrite && k0 == 0)
	}
}

// mulAddPackedB is mulAdd for a B the caller has already packed: strip jp
// (columns jp*gemmNR ..) holds k rows of gemmNR values at
// bp[jp*k*gemmNR:], zero past column n.
func (s *gemmScratch) mulAddPackedB(m, n, k int, a []float64, ars, acs int, bp []float64, c []float64, ldc int) {
	for k0 := 0; k0 < k; k0 += gemmKC {
		kc := min(gemmKC, k-k0)
		s.tiles(m, n, kc, a[k0*acs:], ars, acs, func(jp int) ([]float64, int) {
			return bp[(jp*k+k0)*gemmNR:][:kc*gemmNR], gemmNR
		}, c, ldc, false)
	}
}

// tiles adds A (m x kc) times B (kc x n) to C (or stores it there, if
// store) tile by tile; strip returns B's strip jp and its row stride.
func (s *gemmScratch) tiles(m, n, kc int, a []float64, ars, acs int, strip func(jp int) ([]float64, int), c []float64, ldc int, store bool) {
	var tile [gemmMR * gemmNR]float64
	// A ragged last strip of A (m not a multiple of gemmMR) is copied once,
	// zero-padded, and reused for every strip of B.
	mFull := m / gemmMR * gemmMR
	if mFull < m {
		s.aEdge = growTo(s.aEdge, kc*gemmMR)
		packStrips(s.aEdge, m-mFull, kc, gemmMR, a[mFull*ars:], ars, acs)
	}
	for j0 := 0; j0 < n; j0 += gemmNR {
		bp, ldb := strip(j0 / gemmNR)
		fullJ := j0+gemmNR <= n
		for i0 := 0; i0 < m; i0 += gemmMR {
			fullI := i0+gemmMR <= m
			if fullI && fullJ {
				gemmKernel(kc, a[i0*ars:], ars, acs, bp, ldb, c[i0*ldc+j0:], ldc, store)
				continue
			}
			// A ragged edge: multiply into a scratch tile and add (or store)
			// only the part that lies inside C.
			ap, pars, pacs := a[i0*ars:], ars, acs
			if !fullI {
				ap, pars, pacs = s.aEdge, 1, gemmMR
			}
			gemmKernel(kc, ap, pars, pacs, bp, ldb, tile[:], gemmNR, true)
			for r := 0; r < min(gemmMR, m-i0); r++ {
				row := c[(i0+r)*ldc+j0:][:min(gemmNR, n-j0)]
				for q := range row {
					if store {
						row[q] = tile[r*gemmNR+q]
					} else {
						row[q] += tile[r*gemmNR+q]
					}
				}
			}
		}
	}
}

// packStrips copies a (rows x kc) operand, element (i, l) at
// src[i*rs + l*ls], into strips of w rows: strip p holds, for each l in
// order, the w values of rows p*w .. p*w+w-1, zero past the last row.
func packStrips(dst []float64, rows, kc, w int, src []float64, rs, ls int) {
	for p := 0; p*w < rows; p++ {
		d := dst[p*kc*w:][:kc*w]
		full := min(w, rows-p*w)
		for r := 0; r < w; r++ {
			if r >= full {
				for l := 0; l < kc; l++ {
					d[l*w+r] = 0
				}
				continue
			}
			base := (p*w + r) * rs
			if ls == 1 {
				srow := src[base:][:kc]
				for l, v := range srow {
					d[l*w+r] = v
				}
				continue
			}
			for l := 0; l < kc; l++ {
				d[l*w+r] = src[base+l*ls]
			}
		}
	}
}

// gemmKernelGo adds the product of A's strip (kc columns of gemmMR rows,
// element (r, l) at a[r*ars + l*acs]) and B's strip (kc rows of gemmNR
// values, row l at b[l*ldb:]) to the tile of C at c with row stride ldc, or
// stores it there if store is set.
func gemmKernelGo(kc int, a []float64, ars, acs int, b []float64, ldb int, c []float64, ldc int, store bool) {
	var acc [gemmMR * gemmNR]float64
	for l := 0; l < kc; l++ {
		bl := b[l*ldb : l*ldb+gemmNR : l*ldb+gemmNR]
		for r := 0; r < gemmMR; r++ {
			av := a[r*ars+l*acs]
			row := acc[r*gemmNR : r*gemmNR+gemmNR : r*gemmNR+gemmNR]
			for q, bv := range bl {
				row[q] += av * bv
			}
		}
	}
	for r := 0; r < gemmMR; r++ {
		row := c[r*ldc : r*ldc+gemmNR]
		for q := range row {
			if store {
				row[q] = acc[r*gemmNR+q]
			} else {
				row[q] += acc[r*gemmNR+q]
			}
		}
	}
}
