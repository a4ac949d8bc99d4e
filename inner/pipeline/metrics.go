package pipeline

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	sgmetrics "sealgate/shared/metrics"
)

// stages and stageStates are every value of the stage and state labels
// (the CHECKs of export_stage), exported from the start at zero.
var (
	stages      = []string{"transcode", "render", "seal", "outbox"}
	stageStates = []string{"pending", "running", "done", "skipped", "failed"}
	jobStates   = []string{"available", "scheduled", "retryable", "running"}
)

// metrics are this node's attempts, counted as they end (duration and
// failures), and the queue's state read from the database at each scrape,
// so every node reports the figures of the whole queue (docs/monitoring.md).
type metrics struct {
	duration *prometheus.HistogramVec
	failures *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, p *Pipeline) (*metrics, error) {
	m := &metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: sgmetrics.Namespace, Subsystem: "pipeline", Name: "stage_duration_seconds",
			Help: "Time of a stage's successful attempt on this node, by stage.", Buckets: prometheus.ExponentialBuckets(0.5, 2, 16)}, []string{"stage"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: sgmetrics.Namespace, Subsystem: "pipeline", Name: "stage_failures_total",
			Help: "Failed attempts of a stage on this node, by stage and whether it was the last (final: the export failed)."}, []string{"stage", "final"}),
	}
	for _, st := range stages {
		m.duration.WithLabelValues(st)
		m.failures.WithLabelValues(st, "false")
		m.failures.WithLabelValues(st, "true")
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.duration, m.failures, queueCollector{p}} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// attempt records how an attempt of stage that began at start ended.
func (m *metrics) attempt(stage string, start time.Time, err error, final bool) {
	if m == nil {
		return
	}
	if err == nil {
		m.duration.WithLabelValues(stage).Observe(time.Since(start).Seconds())
		return
	}
	m.failures.WithLabelValues(stage, strconv.FormatBool(final)).Inc()
}

var (
	stagesDesc = prometheus.NewDesc(prometheus.BuildFQName(sgmetrics.Namespace, "pipeline", "stages"),
		"Stages of exports, by stage and state (pending, running, done, skipped, failed).", []string{"stage", "state"}, nil)
	fpsDesc = prometheus.NewDesc(prometheus.BuildFQName(sgmetrics.Namespace, "pipeline", "running_fps"),
		"Frames per second of the stages running now, summed by stage (the render's is the masking speed; divide by sealgate_pipeline_stages{state=\"running\"} for each one's).",
		[]string{"stage"}, nil)
	jobsDesc = prometheus.NewDesc(prometheus.BuildFQName(sgmetrics.Namespace, "pipeline", "jobs"),
		"Stage jobs in the queue, by state: available (waiting for a worker), scheduled, retryable (waiting out a backoff), running.", []string{"state"}, nil)
	waitDesc = prometheus.NewDesc(prometheus.BuildFQName(sgmetrics.Namespace, "pipeline", "oldest_waiting_seconds"),
		"How long the oldest job available to run has waited for a worker (0: none).", nil, nil)
)

// queueScrapeTimeout bounds the database reads of one scrape.
const queueScrapeTimeout = 5 * time.Second

type queueCollector struct{ p *Pipeline }

func (queueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{stagesDesc, fpsDesc, jobsDesc, waitDesc} {
		ch <- d
	}
}

// Collect leaves out what it cannot read (logged): a table that does not
// answer must not look like an empty queue.
func (c queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), queueScrapeTimeout) // a scrape has no context of its own
	defer cancel()
	pool := c.p.cfg.Workflow.Pool()
	count := map[[2]string]float64{}
	fps := map[string]float64{}
	rows, err := pool.Query(ctx, `SELECT stage, state, count(*), coalesce(sum(fps) FILTER (WHERE state = 'running'), 0)
		FROM export_stage GROUP BY stage, state`)
	if err == nil {
		for rows.Next() {
			var stage, state string
			var n int64
			var f float64
			if err = rows.Scan(&stage, &state, &n, &f); err != nil {
				break
			}
			count[[2]string{stage, state}], fps[stage] = float64(n), fps[stage]+f
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
	}
	if err != nil {
		c.p.cfg.Log.Warn("metrics: read export stages", slog.Any("err", err))
	} else {
		for _, st := range stages {
			for _, s := range stageStates {
				ch <- prometheus.MustNewConstMetric(stagesDesc, prometheus.GaugeValue, count[[2]string{st, s}], st, s)
			}
			ch <- prometheus.MustNewConstMetric(fpsDesc, prometheus.GaugeValue, fps[st], st)
		}
	}
	jobs := map[string]float64{}
	var wait float64
	rows, err = pool.Query(ctx, `SELECT state::text, count(*), coalesce(extract(epoch FROM now() - min(scheduled_at)), 0)::float8
		FROM river_job WHERE queue = $1 AND state IN ('available', 'scheduled', 'retryable', 'running') GROUP BY state`, queue)
	if err == nil {
		for rows.Next() {
			var state string
			var n int64
			var age float64
			if err = rows.Scan(&state, &n, &age); err != nil {
				break
			}
			jobs[state] = float64(n)
			if state == "available" {
				wait = max(age, 0)
			}
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
	}
	if err != nil {
		c.p.cfg.Log.Warn("metrics: read the job queue", slog.Any("err", err))
		return
	}
	for _, s := range jobStates {
		ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, jobs[s], s)
	}
	ch <- prometheus.MustNewConstMetric(waitDesc, prometheus.GaugeValue, wait)
}
