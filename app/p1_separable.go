package app

import (
	"fmt"
	"strings"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"

	"gradlab/core/hw"
)

// SeparablePage is problem 1: parameter counts of a K x K convolution and
// of its depthwise-separable replacement, their multiply-adds on an H x W
// image, and the separable layer as a low-rank full kernel.
type SeparablePage struct {
	goapp.Compo
	cin, cout, k float64
	h, w         float64
	init         bool
}

// lowRankLimit keeps the page's SVDs instant: a kernel with more entries is
// described but not factorised.
const lowRankLimit = 20000

// lowRankSeed fixes the random kernel so the page shows the same numbers on
// every visit.
const lowRankSeed = 1

func (p *SeparablePage) defaults() {
	if !p.init {
		p.cin, p.cout, p.k, p.h, p.w, p.init = 3, 4, 3, 224, 224, true
	}
}

// OnPreRender titles the pre-rendered page.
func (p *SeparablePage) OnPreRender(ctx goapp.Context) { setProblemTitle(ctx, 1) }

// OnNav titles the page after an in-app navigation.
func (p *SeparablePage) OnNav(ctx goapp.Context) { setProblemTitle(ctx, 1) }

// Render draws the page.
func (p *SeparablePage) Render() goapp.UI {
	p.defaults()
	return problemFrame(1,
		p.answer(),
		section("p1-try", "Try other layer sizes",
			goapp.P().Text("Change the channels and the kernel size; every count below is recomputed with the same formulas."),
			goapp.Div().Class("inputs").Body(
				p.intInput("p1-cin", "Input channels C_in", 1, 2048, p.cin, func(v float64) { p.cin = v }),
				p.intInput("p1-cout", "Output channels C_out", 1, 2048, p.cout, func(v float64) { p.cout = v }),
				p.intInput("p1-k", "Kernel size k", 1, 15, p.k, func(v float64) { p.k = v }),
				p.intInput("p1-h", "Image height H", 1, 4096, p.h, func(v float64) { p.h = v }),
				p.intInput("p1-w", "Image width W", 1, 4096, p.w, func(v float64) { p.w = v }),
			),
			p.counts(),
			p.flops(),
		),
		p.lowRank(),
		&SeparableGPU{},
	)
}

func (p *SeparablePage) intInput(id, label string, lo, hi, v float64, set func(float64)) goapp.UI {
	return intField(id, label, lo, hi, v, set)
}

func (p *SeparablePage) answer() goapp.UI {
	c, err := hw.ParamCounts(3, 4, 3)
	if err != nil {
		return section("p1-answer", "The answer", errorBox("p1-answer-error", err))
	}
	return section("p1-answer", "The answer (3 input channels, 4 output channels, 3×3 kernel, no biases)",
		goapp.Ol().Class("answers").Type("a").Body(
			goapp.Li().Body(
				goapp.P().Body(goapp.Text("Traditional convolution: one 3×3 filter for every (output, input) channel pair, "),
					goapp.Strong().ID("p1-trad").Textf("%d", c.Traditional), goapp.Text(" parameters.")),
				formula(fmt.Sprintf(`k\cdot k\cdot C_{in}\cdot C_{out}=3\cdot3\cdot3\cdot4=%d`, c.Traditional)),
			),
			goapp.Li().Body(
				goapp.P().Body(goapp.Textf("Depthwise separable: a 3×3 filter per input channel (%d) plus a 1×1 convolution mixing 3 channels into 4 (%d): ", c.Depthwise, c.Pointwise),
					goapp.Strong().ID("p1-sep").Textf("%d", c.Separable), goapp.Text(" parameters.")),
				formula(fmt.Sprintf(`k\cdot k\cdot C_{in}+C_{in}\cdot C_{out}=27+12=%d`, c.Separable)),
			),
		),
		goapp.P().Textf("The image size (224×224) does not enter: a convolution shares its weights across positions. The separable layer has %s of the parameters, 1/C_out + 1/k² = 1/4 + 1/9.", FormatNum(c.Ratio, 3)),
	)
}

func (p *SeparablePage) counts() goapp.UI {
	cin, cout, k := int(p.cin), int(p.cout), int(p.k)
	c, err := hw.ParamCounts(cin, cout, k)
	if err != nil {
		return errorBox("p1-counts-error", err)
	}
	return subsection("p1-counts", "Parameters",
		goapp.Table().Class("results").Body(
			goapp.THead().Body(goapp.Tr().Body(goapp.Th().Text("Layer"), goapp.Th().Text("Formula"), goapp.Th().Text("Parameters"))),
			goapp.TBody().Body(
				countRow("Traditional", fmt.Sprintf("k·k·C_in·C_out = %d·%d·%d·%d", k, k, cin, cout), c.Traditional, "p1-c-trad"),
				countRow("Depthwise", fmt.Sprintf("k·k·C_in = %d·%d·%d", k, k, cin), c.Depthwise, "p1-c-dw"),
				countRow("Pointwise", fmt.Sprintf("C_in·C_out = %d·%d", cin, cout), c.Pointwise, "p1-c-pw"),
				countRow("Separable total", "depthwise + pointwise", c.Separable, "p1-c-sep"),
			),
		),
		goapp.P().Textf("Ratio separable / traditional = 1/C_out + 1/k² = %s.", FormatNum(c.Ratio, 4)),
	)
}

func countRow(name, f string, v int64, id string) goapp.UI {
	return goapp.Tr().Body(goapp.Th().Scope("row").Text(name), goapp.Td().Class("formula-cell").Text(f), goapp.Td().ID(id).Class("num-cell").Text(Count(v)))
}

func (p *SeparablePage) flops() goapp.UI {
	cin, cout, k, h, w := int(p.cin), int(p.cout), int(p.k), int(p.h), int(p.w)
	pad := k / 2
	f, err := hw.FLOPs(cin, cout, k, h, w, 1, pad)
	if err != nil {
		return subsection("p1-flops", "Multiply-adds", errorBox("p1-flops-error", err))
	}
	return subsection("p1-flops", "Multiply-adds for one image",
		goapp.P().Textf("Stride 1 and zero padding %d on each side, so the %d×%d input gives a %d×%d output. One multiply-add per kernel tap per output value (taps on the padding included, as a dense kernel computes them); FLOPs in the other convention are twice these.", pad, h, w, f.OutH, f.OutW),
		goapp.Table().Class("results").Body(
			goapp.THead().Body(goapp.Tr().Body(goapp.Th().Text("Layer"), goapp.Th().Text("Formula"), goapp.Th().Text("Multiply-adds"))),
			goapp.TBody().Body(
				countRow("Traditional", "H_out·W_out·C_out·C_in·k²", f.Traditional, "p1-f-trad"),
				countRow("Depthwise", "H_out·W_out·C_in·k²", f.Depthwise, "p1-f-dw"),
				countRow("Pointwise", "H_out·W_out·C_in·C_out", f.Pointwise, "p1-f-pw"),
				countRow("Separable total", "depthwise + pointwise", f.Separable, "p1-f-sep"),
			),
		),
	)
}

func (p *SeparablePage) lowRank() goapp.UI {
	cin, cout, k := int(p.cin), int(p.cout), int(p.k)
	intro := goapp.P().Text("Write the separable layer as one ordinary kernel: W[o,c,:,:] = P[o,c]·D[c,:,:], with D the depthwise filters and P the pointwise weights. " +
		"For a fixed input channel c, the C_out × k² slice W[:,c,:,:] is the outer product of P[:,c] and D[c], so its rank is at most 1, where a free kernel's slice has rank min(C_out, k²). " +
		"A rank-1 C_out × k² matrix takes C_out + k² numbers, and C_in of them take C_in·(C_out + k²) = the separable parameter count: the separable layer is exactly a traditional layer with every input-channel slice restricted to rank 1.")
	if cin*cout*k*k > lowRankLimit {
		return section("p1-lowrank", "The low-rank view", intro,
			goapp.P().Class("notice").Textf("This kernel has %d entries; the page factorises kernels of up to %d entries so it stays instant. Choose smaller sizes to see the ranks.", cin*cout*k*k, lowRankLimit))
	}
	lr, err := hw.RandomSeparableLowRank(cin, cout, k, lowRankSeed)
	if err != nil {
		return section("p1-lowrank", "The low-rank view", intro, errorBox("p1-lowrank-error", err))
	}
	ranks := make([]string, len(lr.SliceRanks))
	for i, r := range lr.SliceRanks {
		ranks[i] = fmt.Sprint(r)
	}
	var slice goapp.UI
	if cout <= 12 && k*k <= 25 {
		rows := make([][]float64, cout)
		for o := range rows {
			rows[o] = lr.Full[o*cin*k*k : o*cin*k*k+k*k]
		}
		cols := make([]string, k*k)
		for s := range cols {
			cols[s] = fmt.Sprintf("(%d,%d)", s/k+1, s%k+1)
		}
		rl := make([]string, cout)
		for o := range rl {
			rl[o] = fmt.Sprintf("out %d", o+1)
		}
		slice = goapp.Div().Body(
			MatrixView{ID: "p1-slice", Caption: "W[:, 1, :, :] (rows: output channel; columns: kernel tap) for random D and P", Rows: rows, RowLabels: rl, ColLabels: cols}.UI(),
			goapp.P().Textf("Its singular values: %s — one non-zero, the rest zero up to rounding.", Vec(lr.SliceSingular[0])),
		)
	}
	return section("p1-lowrank", "The low-rank view", intro,
		kv(
			"Rank of each input-channel slice (measured by SVD)", strings.Join(ranks, ", "),
			"Rank of a free kernel's slice", fmt.Sprint(lr.GenericSliceRank),
			"Rank of the whole kernel as C_out × (C_in·k²)", fmt.Sprintf("%d (at most min(C_out, C_in) = %d; a free kernel has %d)", lr.FullRank, lr.FullRankBound, lr.GenericFullRank),
			"Parameters", fmt.Sprintf("%d separable vs %d traditional", lr.SeparableParams, lr.TraditionalParams),
		),
		slice,
	)
}
