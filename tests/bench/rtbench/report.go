package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"sync"
)

// store keeps the samples of one comparison: metric -> runtime -> values.
type store struct {
	mu sync.Mutex
	v  map[string]map[string][]float64
}

func newStore() *store { return &store{v: map[string]map[string][]float64{}} }

func (s *store) add(rc *runtimeCfg, metric string, v float64) { s.addName(rc.name, metric, v) }

func (s *store) addName(name, metric string, v float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.v[metric] == nil {
		s.v[metric] = map[string][]float64{}
	}
	s.v[metric][name] = append(s.v[metric][name], v)
}

func (s *store) values(metric, name string) []float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]float64(nil), s.v[metric][name]...)
}

// quantile is the nearest-rank quantile q of vs (q=0.5: the median, the
// mean of the middle two for an even count).
func quantile(vs []float64, q float64) float64 {
	if len(vs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	if q == 0.5 {
		n := len(s)
		if n%2 == 1 {
			return s[n/2]
		}
		return (s[n/2-1] + s[n/2]) / 2
	}
	i := int(math.Ceil(q*float64(len(s)))) - 1
	if i < 0 {
		i = 0
	}
	return s[i]
}

func maxOf(vs []float64) float64 {
	if len(vs) == 0 {
		return math.NaN()
	}
	m := vs[0]
	for _, v := range vs {
		m = math.Max(m, v)
	}
	return m
}

// row is one line of a table.
type row struct {
	label  string
	metric string
	// stat: "median", "p95", "max", "rate" (metric holds seconds per burst
	// and metric+" n" the lifecycles of each: the sum of one over the sum
	// of the other), "value" (a single figure).
	stat string
	// format of a figure, e.g. "%.1f".
	format string
}

func (r row) figure(s *store, name string) float64 {
	vs := s.values(r.metric, name)
	switch r.stat {
	case "median":
		return quantile(vs, 0.5)
	case "p95":
		return quantile(vs, 0.95)
	case "max":
		return maxOf(vs)
	case "rate":
		ns := s.values(r.metric+" n", name)
		var secs, n float64
		for i := range vs {
			secs += vs[i]
			n += ns[i]
		}
		if secs == 0 {
			return math.NaN()
		}
		return n / secs
	default:
		if len(vs) == 0 {
			return math.NaN()
		}
		return vs[len(vs)-1]
	}
}

// table prints rows for the runtimes, then rt's ratio to each other runtime.
func table(w io.Writer, s *store, runtimes []*runtimeCfg, rows []row) {
	const labelW = 46
	var others []string
	for _, rc := range runtimes {
		if rc.name != "rt" {
			others = append(others, rc.name)
		}
	}
	fmt.Fprintf(w, "%-*s", labelW, "")
	for _, rc := range runtimes {
		fmt.Fprintf(w, " %10s", rc.name)
	}
	for _, o := range others {
		fmt.Fprintf(w, " %10s", "rt/"+o)
	}
	fmt.Fprintln(w)
	for _, r := range rows {
		fig := map[string]float64{}
		any := false
		for _, rc := range runtimes {
			fig[rc.name] = r.figure(s, rc.name)
			if !math.IsNaN(fig[rc.name]) {
				any = true
			}
		}
		if !any {
			continue
		}
		fmt.Fprintf(w, "%-*s", labelW, r.label)
		for _, rc := range runtimes {
			fmt.Fprintf(w, " %10s", formatFigure(r.format, fig[rc.name]))
		}
		for _, o := range others {
			fmt.Fprintf(w, " %10s", formatRatio(fig["rt"], fig[o]))
		}
		fmt.Fprintln(w)
	}
}

func formatFigure(format string, v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case math.IsInf(v, 1):
		return "none"
	}
	return fmt.Sprintf(format, v)
}

func formatRatio(a, b float64) string {
	// A ratio of noise around zero (a memory delta) says nothing.
	if math.IsNaN(a) || math.IsNaN(b) || math.IsInf(a, 0) || math.IsInf(b, 0) || b <= 0 || a < 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func printFailures(w io.Writer, runtimes []*runtimeCfg) {
	for _, rc := range runtimes {
		rc.mu.Lock()
		f := append([]string(nil), rc.failures...)
		rc.mu.Unlock()
		if len(f) == 0 {
			continue
		}
		fmt.Fprintf(w, "%s: %d failed sample(s); first: %s\n", rc.name, len(f), f[0])
	}
}

// dump writes every sample as JSON, for a closer look than the table.
func dump(path string, sections map[string]*store) error {
	out := map[string]map[string]map[string][]float64{}
	for name, s := range sections {
		s.mu.Lock()
		out[name] = s.v
		s.mu.Unlock()
	}
	data, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
