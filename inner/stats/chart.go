package stats

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
)

// Bar is one bar of a chart: Key identifies it to scripts and tests
// (a month, a reason code), Label is what a reader sees.
type Bar struct {
	Key, Label string
	Value      int
}

// Chart geometry, in SVG user units: a label column, the bars, the value.
const (
	chartWidth  = 720
	labelWidth  = 220
	valueWidth  = 60
	rowHeight   = 24
	barHeight   = 16
	labelUnits  = 29 // half-width characters that fit labelWidth at font-size 13
	chartMargin = 4
)

// BarChart draws bars as an inline SVG of horizontal bars, drawn on the
// server: the console runs offline and loads no chart library. The chart
// is an image with a title for screen readers; each bar has a title too,
// and carries its exact number in data-value (and its key in data-key).
// Every text is escaped here: labels are agencies' and cameras' names as
// users typed them.
func BarChart(id, title string, bars []Bar) template.HTML {
	esc := template.HTMLEscapeString
	top := 0
	for _, b := range bars {
		top = max(top, b.Value)
	}
	height := chartMargin*2 + rowHeight*max(len(bars), 1)
	var s strings.Builder
	fmt.Fprintf(&s, `<svg id="%s" class="chart" role="img" aria-labelledby="%s-title" viewBox="0 0 %d %d" width="100%%" xmlns="http://www.w3.org/2000/svg">`,
		esc(id), esc(id), chartWidth, height)
	fmt.Fprintf(&s, `<title id="%s-title">%s</title>`, esc(id), esc(title))
	span := chartWidth - labelWidth - valueWidth
	for i, b := range bars {
		y := chartMargin + i*rowHeight
		w := 0
		if top > 0 {
			w = b.Value * span / top
		}
		if b.Value > 0 && w < 1 {
			w = 1
		}
		v := strconv.Itoa(b.Value)
		fmt.Fprintf(&s, `<g class="bar-row"><title>%s: %s</title>`, esc(b.Label), v)
		fmt.Fprintf(&s, `<text x="%d" y="%d" text-anchor="end" font-size="13" fill="#1b2430">%s</text>`,
			labelWidth-8, y+barHeight-3, esc(shorten(b.Label)))
		fmt.Fprintf(&s, `<rect class="bar" data-key="%s" data-label="%s" data-value="%s" x="%d" y="%d" width="%d" height="%d" fill="#2a5da8"></rect>`,
			esc(b.Key), esc(b.Label), v, labelWidth, y+(rowHeight-barHeight)/2, w, barHeight)
		fmt.Fprintf(&s, `<text x="%d" y="%d" font-size="13" fill="#1b2430">%s</text></g>`, labelWidth+w+6, y+barHeight-3, v)
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String())
}

// shorten cuts a long label to the label column, counting a wide
// character (Hangul, CJK) as two; the bar's title and data-label keep it
// whole.
func shorten(s string) string {
	width := 0
	for i, r := range s {
		w := 1
		if r >= 0x1100 {
			w = 2
		}
		if width+w > labelUnits {
			return s[:i] + "…"
		}
		width += w
	}
	return s
}
