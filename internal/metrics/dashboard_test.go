package metrics_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/parley-chat/parley/internal/metrics"
)

// fullMetrics returns the Metrics of a cluster node with every source
// watched: every metric parley has.
func fullMetrics() *metrics.Metrics {
	m := newMetrics(true)
	m.Watch(metrics.Sources{
		Sockets:      func(yield func(string, int)) { yield("/", 1) },
		People:       func() int { return 1 },
		Rooms:        func() int { return 1 },
		ClusterNodes: func() int { return 1 },
	})
	return m
}

// metricRE matches the metric names of a PromQL expression, and byRE its
// grouping labels.
var (
	metricRE = regexp.MustCompile(`\b(?:parley|go|process)_[a-z_]+\b`)
	byRE     = regexp.MustCompile(`\bby \(([a-z_, ]+)\)`)
)

// dashboard is what the test reads of a Grafana dashboard.
type dashboard struct {
	Title      string  `json:"title"`
	UID        string  `json:"uid"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	Type    string `json:"type"`
	Title   string `json:"title"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

// family returns the metric family a name of a query refers to: itself,
// or the histogram whose _bucket, _sum or _count it is.
func family(fams map[string]*dto.MetricFamily, name string) *dto.MetricFamily {
	if f := fams[name]; f != nil {
		return f
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if f := fams[base]; f != nil && f.GetType() == dto.MetricType_HISTOGRAM {
				return f
			}
		}
	}
	return nil
}

// TestDashboard checks docs/grafana-parley.json: valid JSON, a dashboard
// with the panels the operator needs, each query naming metrics that the
// registry has, grouped by labels those metrics have (or le, of their
// buckets, or instance, which Prometheus adds).
func TestDashboard(t *testing.T) {
	b, err := os.ReadFile("../../docs/grafana-parley.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("docs/grafana-parley.json: %v", err)
	}
	if d.Title == "" || d.UID == "" {
		t.Errorf("title %q, uid %q", d.Title, d.UID)
	}
	fams := families(t, fullMetrics())
	queried := map[string]bool{}
	var exprs []string
	for _, p := range d.Panels {
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	for _, v := range d.Templating.List {
		if v.Definition != "" {
			exprs = append(exprs, v.Definition)
		}
	}
	for _, e := range exprs {
		names := metricRE.FindAllString(e, -1)
		if len(names) == 0 {
			t.Errorf("query %q names no metric", e)
		}
		labels := map[string]bool{"le": true, "instance": true}
		for _, n := range names {
			f := family(fams, n)
			if f == nil {
				t.Errorf("query %q: no metric %s in the registry", e, n)
				continue
			}
			queried[f.GetName()] = true
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					labels[l.GetName()] = true
				}
			}
		}
		for _, by := range byRE.FindAllStringSubmatch(e, -1) {
			for _, l := range strings.Split(by[1], ",") {
				if l = strings.TrimSpace(l); !labels[l] {
					t.Errorf("query %q groups by %q, a label of none of its metrics", e, l)
				}
			}
		}
	}
	// What the dashboard is for: connections, deliveries/s, p99 delivery
	// latency, store commit p99, slow consumers, refusals.
	for _, want := range []string{
		"parley_connections", "parley_events_sent_total", "parley_delivery_latency_seconds",
		"parley_store_commit_seconds", "parley_slow_consumers_total", "parley_refusals_total",
	} {
		if !queried[want] {
			t.Errorf("the dashboard does not show %s", want)
		}
	}
	var p99 []string
	for _, e := range exprs {
		if strings.Contains(e, "histogram_quantile(0.99") {
			p99 = append(p99, metricRE.FindString(e))
		}
	}
	for _, want := range []string{"parley_delivery_latency_seconds_bucket", "parley_store_commit_seconds_bucket"} {
		if !slices.Contains(p99, want) {
			t.Errorf("no p99 of %s", want)
		}
	}
}

// TestOperationsDoc checks that docs/operations.md documents every metric
// of parley's, under its name.
func TestOperationsDoc(t *testing.T) {
	b, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for name := range families(t, fullMetrics()) {
		if strings.HasPrefix(name, "parley_") && !strings.Contains(doc, "`"+name+"`") {
			t.Errorf("docs/operations.md does not document %s", name)
		}
	}
}
