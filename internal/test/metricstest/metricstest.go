// Package metricstest reads what a Prometheus registry holds, for tests
// that assert exact values: a series by its name and labels. It is for
// tests only.
package metricstest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Families gathers g and returns its metric families by name.
func Families(tb testing.TB, g prometheus.Gatherer) map[string]*dto.MetricFamily {
	tb.Helper()
	mfs, err := g.Gather()
	if err != nil {
		tb.Fatalf("gathering metrics: %v", err)
	}
	byName := make(map[string]*dto.MetricFamily, len(mfs))
	for _, mf := range mfs {
		byName[mf.GetName()] = mf
	}
	return byName
}

// Series returns the series of name whose labels are exactly labels,
// given as "name=value" in the order of their names, or an error.
func Series(g prometheus.Gatherer, name string, labels ...string) (*dto.Metric, error) {
	mfs, err := g.Gather()
	if err != nil {
		return nil, fmt.Errorf("gathering metrics: %w", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, s := range mf.GetMetric() {
			got := make([]string, 0, len(s.GetLabel()))
			for _, l := range s.GetLabel() {
				got = append(got, l.GetName()+"="+l.GetValue())
			}
			if slices.Equal(got, labels) {
				return s, nil
			}
		}
		return nil, fmt.Errorf("no series %s%v", name, labels)
	}
	return nil, fmt.Errorf("no metric %s", name)
}

// Value returns a counter's or a gauge's value, or a histogram's count of
// observations.
func Value(s *dto.Metric) float64 {
	switch {
	case s.Counter != nil:
		return s.GetCounter().GetValue()
	case s.Gauge != nil:
		return s.GetGauge().GetValue()
	case s.Histogram != nil:
		return float64(s.GetHistogram().GetSampleCount())
	case s.Untyped != nil:
		return s.GetUntyped().GetValue()
	}
	return 0
}

// Get returns the Value of the series of name with labels, failing tb
// when there is none.
func Get(tb testing.TB, g prometheus.Gatherer, name string, labels ...string) float64 {
	tb.Helper()
	s, err := Series(g, name, labels...)
	if err != nil {
		tb.Fatal(err)
	}
	return Value(s)
}

// Sum returns the sum of a histogram's observations, failing tb when the
// series is none or no histogram.
func Sum(tb testing.TB, g prometheus.Gatherer, name string, labels ...string) float64 {
	tb.Helper()
	s, err := Series(g, name, labels...)
	if err != nil {
		tb.Fatal(err)
	}
	if s.Histogram == nil {
		tb.Fatalf("%s is no histogram", name)
	}
	return s.GetHistogram().GetSampleSum()
}

// Want is an expected value of a series.
type Want struct {
	Name   string
	Labels []string
	Value  float64
}

// Is returns the Want of the series of name with labels ("name=value",
// in the order of their names) whose value is v.
func Is(name string, v float64, labels ...string) Want {
	return Want{Name: name, Labels: labels, Value: v}
}

// Check returns an error naming every series of want whose value differs,
// or nil: for polling with wait.For until the metrics settle.
func Check(g prometheus.Gatherer, want []Want) error {
	var errs []string
	for _, w := range want {
		s, err := Series(g, w.Name, w.Labels...)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if v := Value(s); v != w.Value {
			errs = append(errs, fmt.Sprintf("%s%v = %v, want %v", w.Name, w.Labels, v, w.Value))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%q", errs)
	}
	return nil
}
