package license

import "github.com/prometheus/client_golang/prometheus"

// Results lists the result label's values (tests).
var Results = results

// RequestsCounter is the requests counter of one result (tests).
func (s *Service) RequestsCounter(result string) prometheus.Counter {
	return s.metrics.requests.WithLabelValues(result)
}
