package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Which way a metric is better, for reading its ratios.
const (
	higherBetter = 1
	lowerBetter  = -1
	noRatio      = 0
)

// cell is one server's value of a metric.
type cell struct {
	v     float64 // the value, when has
	text  string  // as shown
	has   bool    // v is a measurement
	bound int     // 0: v is the value; below: the value is less; atLeast: it is v or more
}

// Bounds, for a cell whose value is only known to be below, or at least,
// its v.
const (
	below   = -1
	atLeast = 1
)

// row is one metric of one scenario, for every server.
type row struct {
	scenario string
	metric   string
	better   int
	cells    map[string]cell
}

// table is the comparison: rows of metrics, a column per server, then
// parley's ratio to each other server. It is not safe for concurrent use.
type table struct {
	servers []string
	rows    []*row
	notes   []string
}

// add appends a row and returns it, for its cells to be set.
func (t *table) add(scenario, metric string, better int) *row {
	r := &row{scenario: scenario, metric: metric, better: better, cells: map[string]cell{}}
	t.rows = append(t.rows, r)
	return r
}

// set sets server's cell to value v, shown as text.
func (r *row) set(server string, v float64, text string) {
	r.cells[server] = cell{v: v, text: text, has: true}
}

// setText sets server's cell to text that is not a value (a failure, a
// reason).
func (r *row) setText(server, text string) {
	r.cells[server] = cell{text: text}
}

// note adds a line below the table.
func (t *table) note(format string, args ...any) {
	t.notes = append(t.notes, fmt.Sprintf(format, args...))
}

// write writes the table in markdown.
func (t *table) write(w io.Writer) error {
	var b strings.Builder
	others := t.others()
	b.WriteString("| scenario | metric |")
	for _, s := range t.servers {
		b.WriteString(" " + s + " |")
	}
	for _, o := range others {
		b.WriteString(" parley vs " + o + " |")
	}
	b.WriteString("\n|---|---|")
	for range len(t.servers) + len(others) {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for _, r := range t.rows {
		fmt.Fprintf(&b, "| %s | %s |", escape(r.scenario), escape(r.metric))
		for _, s := range t.servers {
			b.WriteString(" " + escape(r.cells[s].text) + " |")
		}
		for _, o := range others {
			b.WriteString(" " + r.ratio(o) + " |")
		}
		b.WriteString("\n")
	}
	if len(t.notes) > 0 {
		b.WriteString("\n")
		for _, n := range t.notes {
			b.WriteString("- " + n + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// others are the servers parley is compared with: those in the table
// besides parley, when parley is in it.
func (t *table) others() []string {
	var out []string
	hasParley := false
	for _, s := range t.servers {
		if s == serverParley {
			hasParley = true
		} else {
			out = append(out, s)
		}
	}
	if !hasParley {
		return nil
	}
	return out
}

// ratio is parley's value over other's, as "4.3× node".
func (r *row) ratio(other string) string {
	if r.better == noRatio {
		return ""
	}
	switch x := ratio(r.cells[serverParley], r.cells[other]); x {
	case "", "same":
		return x
	default:
		return x + " " + other
	}
}

// ratio is p's value over o's, as "4.3×", "≥ 6.7×" when bounds make it
// larger, or "" when it cannot be told.
func ratio(p, o cell) string {
	if !p.has || !o.has {
		return ""
	}
	switch {
	case o.v == 0 && p.v == 0 && p.bound == 0 && o.bound == 0:
		return "same"
	case o.v == 0:
		return ""
	}
	// The ratio's bound: parley's value over the other's is larger than
	// shown when parley's is at least v or the other's below v.
	prefix := ""
	switch pb, ob := p.bound, -o.bound; {
	case pb == 0 && ob == 0:
	case pb >= 0 && ob >= 0:
		prefix = "≥ "
	case pb <= 0 && ob <= 0:
		prefix = "≤ "
	default:
		return "" // one bound up, one down: unknown
	}
	return prefix + formatRatio(p.v/o.v) + "×"
}

// formatRatio prints a ratio with two significant digits, or as a whole
// number from 10 on, never with an exponent: 0.0042, 0.25, 1.0, 4.3, 17.
func formatRatio(x float64) string {
	if x == 0 {
		return "0"
	}
	// The exponent once x is rounded to two digits: 0.997 is 1.0e+00, so
	// "1.0", not "1.00"; 9.96 is 1.0e+01, so "10", not "10.0".
	e := strconv.FormatFloat(x, 'e', 1, 64)
	exp, err := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if err != nil || exp >= 1 {
		return strconv.FormatFloat(math.Round(x), 'f', 0, 64)
	}
	return strconv.FormatFloat(x, 'f', 1-exp, 64)
}

// escape keeps a cell's text from breaking the table.
func escape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ")
}

// Formats of values.

// count prints an integer with thousands separators: 12,345.
func count(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// kilo prints a round rate in thousands or millions: 150k, 1.2M.
func kilo(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case v >= 1000:
		return strconv.FormatFloat(v/1000, 'f', -1, 64) + "k"
	default:
		return count(v)
	}
}

// sig3 prints v with three significant digits (whole numbers from 100 on,
// three decimals at most), without exponents. Each bound is where v rounds
// up to the next digit: 99.96 is "100", not "100.0".
func sig3(v float64) string {
	a := math.Abs(v)
	switch {
	case v == 0:
		return "0"
	case a >= 99.95:
		return count(v)
	case a >= 9.995:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 0.9995:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

// millis prints a latency in milliseconds.
func millis(v float64) string { return sig3(v) + " ms" }

// kib prints memory given in KiB, as KiB or MiB.
func kib(v float64) string {
	if v >= 10*1024 {
		return sig3(v/1024) + " MiB"
	}
	return sig3(v) + " KiB"
}

// percent prints a percentage.
func percent(v float64) string {
	if v == 0 {
		return "0%"
	}
	return sig3(v) + "%"
}
