// Command chart draws a PNG bar chart from the output of go test -bench in
// this module: W1's nanoseconds per empty job and W4's p99 submit-to-start
// latency, one bar per peer, each the median over the runs. It reads the raw
// benchmark text, not benchstat's table.
//
// Usage:
//
//	chart -in results/raw.txt -out results/chart.png
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/fxpool/fxpool/bench/internal/results"
)

// A panel is one bar chart of the image.
type panel struct {
	title    string
	workload string
	unit     string
	scale    float64 // multiplies each median before it is drawn
	suffix   string  // follows each value label
}

// basicfont has ASCII only, so microseconds are "us".
var panels = []panel{
	{
		title:    "W1 empty job: ns per job, median (lower is better)",
		workload: "W1Empty", unit: "ns/op", scale: 1, suffix: " ns",
	},
	{
		title:    "W4 p99 submit-to-start latency at ~half load, median (lower is better)",
		workload: "W4Latency", unit: "p99-µs", scale: 1, suffix: " us",
	},
}

// Layout, in pixels.
const (
	width      = 900
	labelWidth = 140 // left of the bars, for peer names
	valueWidth = 90  // right of the longest bar, for its value
	margin     = 16
	titleH     = 28
	rowH       = 22
	barH       = 15
)

var (
	background = color.RGBA{0xff, 0xff, 0xff, 0xff}
	ink        = color.RGBA{0x20, 0x20, 0x20, 0xff}
	barColor   = color.RGBA{0x4c, 0x78, 0xa8, 0xff}
	floorColor = color.RGBA{0x9a, 0x9a, 0x9a, 0xff} // bare
	ownColor   = color.RGBA{0xf5, 0x85, 0x18, 0xff} // fxpool
)

func main() {
	in := flag.String("in", "results/raw.txt", "go test -bench output to read")
	out := flag.String("out", "results/chart.png", "PNG file to write")
	flag.Parse()

	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	raw, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	s, err := results.Parse(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("parse %s: %w", in, err)
	}

	var buf bytes.Buffer
	if err := png.Encode(&buf, render(s)); err != nil {
		return fmt.Errorf("encode %s: %w", out, err)
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

// render draws every panel, one under the other.
func render(s *results.Set) *image.RGBA {
	height := margin
	for _, p := range panels {
		height += panelHeight(s, p)
	}
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.NewUniform(background), image.Point{}, draw.Src)

	y := margin
	for _, p := range panels {
		drawPanel(img, s, p, y)
		y += panelHeight(s, p)
	}
	return img
}

func panelHeight(s *results.Set, p panel) int {
	return titleH + rowH*len(s.Peers(p.workload)) + margin
}

// drawPanel draws p with its top at y: a title, then a bar per peer scaled
// so that the largest median spans the plot area.
func drawPanel(img *image.RGBA, s *results.Set, p panel, y int) {
	text(img, margin, y+titleH-10, p.title)
	y += titleH

	peers := s.Peers(p.workload)
	values := make([]float64, len(peers))
	maxV := 0.0
	for i, peer := range peers {
		v, _ := s.Median(p.workload, peer, p.unit)
		values[i] = v * p.scale
		maxV = max(maxV, values[i])
	}

	x0 := margin + labelWidth
	plot := width - x0 - valueWidth - margin
	for i, peer := range peers {
		top := y + i*rowH
		text(img, margin, top+barH-3, peer)

		n := 0
		if maxV > 0 {
			n = max(1, int(values[i]/maxV*float64(plot)))
		}
		bar := image.Rect(x0, top, x0+n, top+barH)
		draw.Draw(img, bar, image.NewUniform(colorOf(peer)), image.Point{}, draw.Src)
		text(img, x0+n+6, top+barH-3, label(values[i])+p.suffix)
	}
}

func colorOf(peer string) color.Color {
	switch peer {
	case "bare":
		return floorColor
	case "fxpool":
		return ownColor
	default:
		return barColor
	}
}

// label prints v with about three significant digits.
func label(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// text draws s with its baseline starting at (x, y).
func text(img *image.RGBA, x, y int, s string) {
	d := font.Drawer{
		Dst:  img,
		Src:  image.NewUniform(ink),
		Face: basicfont.Face7x13,
		Dot:  fixed.P(x, y),
	}
	d.DrawString(s)
}
