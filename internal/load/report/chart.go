package report

import (
	"math"
	"strconv"
	"strings"
)

// Chart geometry, in SVG user units.
const (
	chartWidth  = 760
	chartHeight = 240
	plotLeft    = 64
	plotRight   = 28
	plotTop     = 30
	plotBottom  = 34
)

// chart is one SVG line chart, laid out in Go so the template only draws.
type chart struct {
	Title, XLabel, YLabel    string
	Width, Height            int
	Left, Top, Right, Bottom int // plot area edges
	XTicks, YTicks           []tick
	Lines                    []line
}

// tick is an axis tick at plot coordinate Pos.
type tick struct {
	Pos   string
	Label string
}

// line is one polyline and its legend entry.
type line struct {
	Name, Color, Points string
	Dash                bool
	LegendX, LegendY    int
}

// xy is a data point; a NaN y leaves a gap.
type xy struct{ x, y float64 }

// axis maps data values to plot coordinates, linearly or in log10.
type axis struct {
	lo, hi   float64
	from, to float64 // plot coordinates of lo and hi
	log      bool
}

func (a axis) pos(v float64) float64 {
	if a.log {
		v = math.Log10(v)
	}
	lo, hi := a.lo, a.hi
	if a.log {
		lo, hi = math.Log10(lo), math.Log10(hi)
	}
	if hi == lo {
		return a.from
	}
	return a.from + (v-lo)/(hi-lo)*(a.to-a.from)
}

func newChart(title, xLabel, yLabel string) *chart {
	return &chart{Title: title, XLabel: xLabel, YLabel: yLabel, Width: chartWidth, Height: chartHeight,
		Left: plotLeft, Top: plotTop, Right: chartWidth - plotRight, Bottom: chartHeight - plotBottom}
}

// xAxis and yAxis return axes over the plot area.
func (c *chart) xAxis(lo, hi float64, log bool) axis {
	return axis{lo: lo, hi: hi, from: float64(c.Left), to: float64(c.Right), log: log}
}

func (c *chart) yAxis(lo, hi float64, log bool) axis {
	return axis{lo: lo, hi: hi, from: float64(c.Bottom), to: float64(c.Top), log: log}
}

// ticks places tick labels along an axis.
func ticks(a axis, vs []float64, labels []string) []tick {
	out := make([]tick, len(vs))
	for i, v := range vs {
		out[i] = tick{Pos: coord(a.pos(v)), Label: labels[i]}
	}
	return out
}

// series is one line's data.
type series struct {
	name, color string
	dash        bool
	pts         []xy
}

// plot draws each series over the axes; points outside a log axis's
// range (zero latency: no request in that step) are left out.
func (c *chart) plot(xa, ya axis, all []series) {
	for i, s := range all {
		var b strings.Builder
		for _, p := range s.pts {
			if math.IsNaN(p.y) || (ya.log && p.y <= 0) {
				continue
			}
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(coord(xa.pos(p.x)) + "," + coord(ya.pos(min(max(p.y, ya.lo), ya.hi))))
		}
		c.Lines = append(c.Lines, line{Name: s.name, Color: s.color, Points: b.String(), Dash: s.dash,
			LegendX: c.Left + 140*i, LegendY: 8})
	}
}

func coord(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// linearTicks returns about five round ticks from 0 to at least hi, and
// the axis top.
func linearTicks(hi float64, label func(float64) string) ([]float64, []string, float64) {
	if hi <= 0 {
		hi = 1
	}
	raw := hi / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	top := math.Ceil(hi/step) * step
	var vs []float64
	var ls []string
	for v := 0.0; v <= top+step/2; v += step {
		vs = append(vs, v)
		ls = append(ls, label(v))
	}
	return vs, ls, top
}

// logTicks returns decade ticks covering [lo, hi] (both > 0) and the
// rounded bounds.
func logTicks(lo, hi float64, label func(float64) string) ([]float64, []string, float64, float64) {
	a := math.Pow(10, math.Floor(math.Log10(lo)))
	b := math.Pow(10, math.Ceil(math.Log10(hi)))
	if b <= a {
		b = a * 10
	}
	var vs []float64
	var ls []string
	for v := a; v <= b*1.0001; v *= 10 {
		vs = append(vs, v)
		ls = append(ls, label(v))
	}
	return vs, ls, a, b
}

// msLabel writes a decade latency tick given in milliseconds: 100µs, 1ms,
// 10s.
func msLabel(ms float64) string {
	switch {
	case ms >= 1000:
		return strconv.FormatFloat(ms/1000, 'g', -1, 64) + "s"
	case ms >= 1:
		return strconv.FormatFloat(ms, 'g', -1, 64) + "ms"
	}
	return strconv.FormatFloat(math.Round(ms*1000), 'g', -1, 64) + "µs"
}

// secLabel writes a time-axis tick in seconds.
func secLabel(s float64) string {
	switch {
	case s >= 3600 && math.Mod(s, 60) == 0:
		return strconv.FormatFloat(s/60, 'f', -1, 64) + "m"
	}
	return strconv.FormatFloat(s, 'f', -1, 64) + "s"
}
