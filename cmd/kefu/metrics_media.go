package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kefu-dev/kefu/storage"
)

// mediaRetryCollector reports the background retries of customers' files whose download failed
// (storage media_retries), read from the database at scrape time so every process sharing it agrees.
// Labels are the channel and the state only (no media id, no token).
type mediaRetryCollector struct {
	db  *storage.DB
	log *slog.Logger
}

var mediaRetriesDesc = prometheus.NewDesc("kefu_media_retries",
	"Failed file downloads by channel and state: pending (retried with backoff), done (stored on a retry), expired (given up: the platform deleted the file).",
	[]string{"channel", "state"}, nil)

func (c *mediaRetryCollector) Describe(ch chan<- *prometheus.Desc) { ch <- mediaRetriesDesc }

func (c *mediaRetryCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	counts, err := c.db.MediaRetryCounts(ctx)
	if err != nil {
		c.log.Warn("metrics: media retries", "err", err)
		return
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(mediaRetriesDesc, prometheus.GaugeValue, float64(n), string(k.Channel), k.State)
	}
}
