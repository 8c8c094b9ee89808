package main

import (
	"errors"
	"strings"
	"testing"
)

func TestFormats(t *testing.T) {
	for _, tc := range []struct {
		name   string
		format func(float64) string
		in     float64
		want   string
	}{
		{"count zero", count, 0, "0"},
		{"count small", count, 999, "999"},
		{"count thousands", count, 12345, "12,345"},
		{"count millions", count, 1234567, "1,234,567"},
		{"count exact thousand", count, 1000, "1,000"},
		{"count rounds", count, 999.5, "1,000"},
		{"count negative", count, -1234567, "-1,234,567"},
		{"count negative small", count, -999, "-999"},
		{"count rounds a small negative to zero", count, -0.4, "0"},

		{"kilo below a thousand", kilo, 950, "950"},
		{"kilo thousands", kilo, 150e3, "150k"},
		{"kilo fraction of thousands", kilo, 2500, "2.5k"},
		{"kilo a thousand", kilo, 1000, "1k"},
		{"kilo millions", kilo, 1.2e6, "1.2M"},
		{"kilo a million", kilo, 1e6, "1M"},
		{"kilo the top step", kilo, ceilingSteps[len(ceilingSteps)-1], "3M"},

		{"sig3 zero", sig3, 0, "0"},
		{"sig3 below one", sig3, 0.1234, "0.123"},
		{"sig3 tiny", sig3, 0.0001, "0.000"},
		{"sig3 units", sig3, 1.234, "1.23"},
		{"sig3 tens", sig3, 12.34, "12.3"},
		{"sig3 hundreds", sig3, 123.4, "123"},
		{"sig3 thousands", sig3, 12345.6, "12,346"},
		{"sig3 negative", sig3, -1.234, "-1.23"},
		{"sig3 rounds up to one", sig3, 0.9996, "1.00"},
		{"sig3 rounds up to ten", sig3, 9.996, "10.0"},
		{"sig3 rounds up to a hundred", sig3, 99.96, "100"},
		{"sig3 just below a hundred", sig3, 99.94, "99.9"},

		{"millis", millis, 42, "42.0 ms"},
		{"millis below one", millis, 0.5, "0.500 ms"},
		{"millis seconds", millis, 2000, "2,000 ms"},

		{"kib small", kib, 512, "512 KiB"},
		{"kib below ten MiB", kib, 10*1024 - 1, "10,239 KiB"},
		{"kib ten MiB", kib, 10 * 1024, "10.0 MiB"},
		{"kib large", kib, 204800, "200 MiB"},
		{"kib fraction", kib, 3.5, "3.50 KiB"},

		{"percent zero", percent, 0, "0%"},
		{"percent small", percent, 0.05, "0.050%"},
		{"percent", percent, 12.5, "12.5%"},
		{"percent all", percent, 100, "100%"},

		{"ratio zero", formatRatio, 0, "0"},
		{"ratio tiny, no exponent", formatRatio, 0.0000033, "0.0000033"},
		{"ratio small", formatRatio, 0.042, "0.042"},
		{"ratio rounds up to a tenth", formatRatio, 0.0996, "0.10"},
		{"ratio a tenth", formatRatio, 0.1, "0.10"},
		{"ratio below one", formatRatio, 0.25, "0.25"},
		{"ratio rounds up to one", formatRatio, 0.997, "1.0"},
		{"ratio one", formatRatio, 1, "1.0"},
		{"ratio", formatRatio, 4.26, "4.3"},
		{"ratio rounds up to ten", formatRatio, 9.96, "10"},
		{"ratio just below ten", formatRatio, 9.94, "9.9"},
		{"ratio tens", formatRatio, 17.4, "17"},
		{"ratio hundreds", formatRatio, 230.6, "231"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.format(tc.in); got != tc.want {
				t.Errorf("%v: got %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRatio(t *testing.T) {
	v := func(x float64) cell { return cell{v: x, has: true} }
	atLeastV := func(x float64) cell { return cell{v: x, has: true, bound: atLeast} }
	belowV := func(x float64) cell { return cell{v: x, has: true, bound: below} }
	for _, tc := range []struct {
		name string
		p, o cell
		want string
	}{
		{"both values", v(430), v(100), "4.3×"},
		{"parley lower", v(25), v(100), "0.25×"},
		{"equal", v(7), v(7), "1.0×"},
		{"both zero", v(0), v(0), "same"},
		{"parley zero", v(0), v(5), "0×"},
		{"other zero", v(5), v(0), ""},
		{"parley missing", cell{text: "failed"}, v(5), ""},
		{"other missing", v(5), cell{text: "—"}, ""},
		{"both missing", cell{}, cell{}, ""},
		{"parley at least", atLeastV(3e6), v(300e3), "≥ 10×"},
		{"other below", v(300e3), belowV(20e3), "≥ 15×"},
		{"parley at least, other below", atLeastV(3e6), belowV(20e3), "≥ 150×"},
		{"parley below", belowV(20e3), v(100e3), "≤ 0.20×"},
		{"other at least", v(100e3), atLeastV(3e6), "≤ 0.033×"},
		{"parley below, other at least", belowV(20e3), atLeastV(3e6), "≤ 0.0067×"},
		{"both at least", atLeastV(3e6), atLeastV(3e6), ""},
		{"both below", belowV(20e3), belowV(20e3), ""},
		{"both zero, one bound", atLeastV(0), v(0), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ratio(tc.p, tc.o); got != tc.want {
				t.Errorf("ratio(%+v, %+v) = %q, want %q", tc.p, tc.o, got, tc.want)
			}
		})
	}
}

func TestRowRatio(t *testing.T) {
	for _, tc := range []struct {
		name   string
		better int
		cells  map[string]cell
		want   string
	}{
		{"higher better", higherBetter, map[string]cell{serverParley: {v: 43, has: true}, serverNode: {v: 10, has: true}}, "4.3× node"},
		{"lower better", lowerBetter, map[string]cell{serverParley: {v: 1, has: true}, serverNode: {v: 4, has: true}}, "0.25× node"},
		{"not for ratios", noRatio, map[string]cell{serverParley: {v: 43, has: true}, serverNode: {v: 10, has: true}}, ""},
		{"same", lowerBetter, map[string]cell{serverParley: {has: true}, serverNode: {has: true}}, "same"},
		{"other not run", higherBetter, map[string]cell{serverParley: {v: 43, has: true}}, ""},
		{"parley failed", higherBetter, map[string]cell{serverParley: {text: "failed"}, serverNode: {v: 10, has: true}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &row{better: tc.better, cells: tc.cells}
			if got := r.ratio(serverNode); got != tc.want {
				t.Errorf("ratio(node) = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"a | b", `a \| b`},
		{"two\nlines", "two lines"},
		{"||\n", `\|\| `},
		{"", ""},
	} {
		if got := escape(tc.in); got != tc.want {
			t.Errorf("escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTableWrite(t *testing.T) {
	// fill adds the same rows to any table: a server that is not a
	// column is left out.
	fill := func(tb *table) {
		r := tb.add("overload: 100k offered", "deliveries/s", higherBetter)
		r.set(serverNode, 30000, "30,000")
		r.set(serverZishang, 20000, "20,000")
		r.set(serverParley, 90000, "90,000")
		r = tb.add("overload: 100k offered", "latency p99", lowerBetter)
		r.set(serverParley, 5, "5.00 ms")
		r.setText(serverZishang, "failed")
		r.set(serverNode, 500, "500 ms")
		r = tb.add("overload: 100k offered", "connected", noRatio)
		r.set(serverParley, 1000, "1,000 of 1,000")
		r.set(serverNode, 1000, "1,000 of 1,000")
		// zishang's cell is missing.
		r = tb.add("ceiling | p99", "lowest step failed", noRatio)
		r.setText(serverNode, "150k: p99 120 ms,\nloss 2%")
	}
	for _, tc := range []struct {
		name    string
		servers []string
		notes   []string
		want    string
	}{
		{
			name:    "every server",
			servers: []string{serverNode, serverZishang, serverParley},
			notes:   []string{"Interrupted: the table is incomplete.", "another note"},
			want: `| scenario | metric | node | zishang | parley | parley vs node | parley vs zishang |
|---|---|---:|---:|---:|---:|---:|
| overload: 100k offered | deliveries/s | 30,000 | 20,000 | 90,000 | 3.0× node | 4.5× zishang |
| overload: 100k offered | latency p99 | 500 ms | failed | 5.00 ms | 0.010× node |  |
| overload: 100k offered | connected | 1,000 of 1,000 |  | 1,000 of 1,000 |  |  |
| ceiling \| p99 | lowest step failed | 150k: p99 120 ms, loss 2% |  |  |  |  |

- Interrupted: the table is incomplete.
- another note
`,
		},
		{
			name:    "columns in the given order",
			servers: []string{serverParley, serverNode},
			want: `| scenario | metric | parley | node | parley vs node |
|---|---|---:|---:|---:|
| overload: 100k offered | deliveries/s | 90,000 | 30,000 | 3.0× node |
| overload: 100k offered | latency p99 | 5.00 ms | 500 ms | 0.010× node |
| overload: 100k offered | connected | 1,000 of 1,000 | 1,000 of 1,000 |  |
| ceiling \| p99 | lowest step failed |  | 150k: p99 120 ms, loss 2% |  |
`,
		},
		{
			name:    "without parley, no ratios",
			servers: []string{serverNode, serverZishang},
			want: `| scenario | metric | node | zishang |
|---|---|---:|---:|
| overload: 100k offered | deliveries/s | 30,000 | 20,000 |
| overload: 100k offered | latency p99 | 500 ms | failed |
| overload: 100k offered | connected | 1,000 of 1,000 |  |
| ceiling \| p99 | lowest step failed | 150k: p99 120 ms, loss 2% |  |
`,
		},
		{
			name:    "parley alone, no ratios",
			servers: []string{serverParley},
			notes:   []string{"a note"},
			want: `| scenario | metric | parley |
|---|---|---:|
| overload: 100k offered | deliveries/s | 90,000 |
| overload: 100k offered | latency p99 | 5.00 ms |
| overload: 100k offered | connected | 1,000 of 1,000 |
| ceiling \| p99 | lowest step failed |  |

- a note
`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := &table{servers: tc.servers}
			fill(tb)
			for _, n := range tc.notes {
				tb.note("%s", n)
			}
			var b strings.Builder
			if err := tb.write(&b); err != nil {
				t.Fatal(err)
			}
			if got := b.String(); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestTableNote(t *testing.T) {
	tb := &table{servers: []string{serverParley}}
	tb.note("%d runs at %.0f%%", 3, 20.0)
	tb.note("plain")
	want := []string{"3 runs at 20%", "plain"}
	if len(tb.notes) != len(want) || tb.notes[0] != want[0] || tb.notes[1] != want[1] {
		t.Errorf("notes = %q, want %q", tb.notes, want)
	}
}

// errWriter fails every write.
type errWriter struct{}

var errWrite = errors.New("write failed")

func (errWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestTableWriteError(t *testing.T) {
	tb := &table{servers: []string{serverParley}}
	if err := tb.write(errWriter{}); !errors.Is(err, errWrite) {
		t.Errorf("write to a failing writer: %v, want %v", err, errWrite)
	}
}
