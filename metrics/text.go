package metrics

import (
	"io"
	"net/http"
	"strconv"
	"strings"
)

// The Prometheus text exposition format (version 0.0.4), written by hand: it
// is a few lines of text per family (# HELP, # TYPE, then one line per series:
// name{label="value",...} value), which every Prometheus-compatible scraper
// reads, so serving it needs no client library and the main module keeps its
// dependencies (docs/metrics.md).

// ContentType is the Content-Type of the text exposition format.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// WriteText writes fams in the Prometheus text exposition format.
func WriteText(w io.Writer, fams []Family) error {
	var b []byte
	for _, f := range fams {
		b = append(b, "# HELP "...)
		b = append(b, f.Name...)
		b = append(b, ' ')
		b = appendEscaped(b, f.Help, false)
		b = append(b, "\n# TYPE "...)
		b = append(b, f.Name...)
		b = append(b, ' ')
		b = append(b, f.Kind.String()...)
		b = append(b, '\n')
		for _, s := range f.Series {
			if f.Kind == Histogram && s.Hist != nil {
				b = appendHist(b, f, s)
				continue
			}
			b = appendSample(b, f.Name, "", f.LabelNames, s.LabelValues, "", "", s.Value)
		}
	}
	_, err := w.Write(b)
	return err
}

func appendHist(b []byte, f Family, s Series) []byte {
	h := s.Hist
	for i, le := range h.Bounds {
		b = appendSample(b, f.Name, "_bucket", f.LabelNames, s.LabelValues, "le", string(formatValue(nil, le)), float64(h.Counts[i]))
	}
	b = appendSample(b, f.Name, "_bucket", f.LabelNames, s.LabelValues, "le", "+Inf", float64(h.Count))
	b = appendSample(b, f.Name, "_sum", f.LabelNames, s.LabelValues, "", "", h.Sum)
	return appendSample(b, f.Name, "_count", f.LabelNames, s.LabelValues, "", "", float64(h.Count))
}

// appendSample writes one line: name+suffix, the labels (and extra=extraV when
// extra is set), the value.
func appendSample(b []byte, name, suffix string, names, values []string, extra, extraV string, v float64) []byte {
	b = append(b, name...)
	b = append(b, suffix...)
	if len(names) > 0 || extra != "" {
		b = append(b, '{')
		for i, n := range names {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendLabel(b, n, values[i])
		}
		if extra != "" {
			if len(names) > 0 {
				b = append(b, ',')
			}
			b = appendLabel(b, extra, extraV)
		}
		b = append(b, '}')
	}
	b = append(b, ' ')
	b = formatValue(b, v)
	return append(b, '\n')
}

func appendLabel(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, '=', '"')
	b = appendEscaped(b, value, true)
	return append(b, '"')
}

// appendEscaped escapes backslash and newline (HELP text), and the double
// quote too in label values, as the format asks.
func appendEscaped(b []byte, s string, quote bool) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, `\\`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '"' && quote:
			b = append(b, `\"`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// Handler serves src's metrics in the Prometheus text format, names prefixed
// with namespace (DefaultNamespace when empty). Mount it at /metrics.
func Handler(src Source, namespace string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		var sb strings.Builder
		WriteText(&sb, Families(src.Metrics(), namespace))
		h := w.Header()
		h.Set("Content-Type", ContentType)
		h.Set("Content-Length", strconv.Itoa(sb.Len()))
		if r.Method == http.MethodHead {
			return
		}
		io.WriteString(w, sb.String())
	})
}
