// Package metrics turns the reactor's and the DTP's counters into
// Prometheus metrics at scrape time, and serves them with /healthz and
// /readyz on the admin listener (admin.go).
//
// The counters live where they are counted, as plain atomics (reactor,
// dtp); nothing there imports Prometheus. Collect reads their snapshots
// and makes const metrics, so a scrape costs the event loop one round
// trip (the sessions by phase) and the counting costs it no lock.
package metrics

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rftpd/rftpd/dtp"
	"github.com/rftpd/rftpd/protocol"
	"github.com/rftpd/rftpd/reactor"
)

// Source is what a Collector reads: the running reactor and DTP. Tests
// give it fakes.
type Source interface {
	Stats() reactor.Stats
	Phases(ctx context.Context) ([protocol.NumPhases][2]int, error)
	Accepting() bool
}

// DTPSource is the DTP's side of a Source.
type DTPSource interface {
	Stats() dtp.Stats
}

// LoopWait bounds the wait for the event loop's count of sessions in a
// scrape; without an answer rftpd_event_loop_up is 0 and rftpd_sessions
// is left out.
const LoopWait = 2 * time.Second

const ns = "rftpd"

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(ns, "", name), help, labels, nil)
}

// Collector is a prometheus.Collector of rftpd's metrics.
type Collector struct {
	r       Source
	d       DTPSource
	version string
	wait    time.Duration

	buildInfo, loopUp, accepting, sessions                    *prometheus.Desc
	logins, commands, commandTime                             *prometheus.Desc
	transfers, transferBytes, transferTime, transfersInFlight *prometheus.Desc
	transfersMax, refusals, tlsStarted, tlsDone               *prometheus.Desc
	poolWorkers, poolCapacity, poolTasks                      *prometheus.Desc
	passiveInUse, passiveCapacity, passiveIdle                *prometheus.Desc
	fdsUsed, fdsLimit, foreignData                            *prometheus.Desc
	dataTLS, hashedBytes, cacheHits                           *prometheus.Desc
	listCacheBytes, listCacheLimit                            *prometheus.Desc
	sendBusy, sendMax, sendDownloads, sendSlow                *prometheus.Desc
}

// NewCollector makes the collector of r and d; version labels
// rftpd_build_info.
func NewCollector(r Source, d DTPSource, version string) *Collector {
	return &Collector{
		r: r, d: d, version: version, wait: LoopWait,

		buildInfo: desc("build_info", "Always 1; the version of rftpd running.", "version"),
		loopUp:    desc("event_loop_up", "1 when the event loop answered this scrape's count of sessions in time, else 0."),
		accepting: desc("accepting", "1 while new control connections are admitted; 0 once a shutdown drains."),
		sessions:  desc("sessions", "Open control connections by phase (login, idle, busy on a worker, transfer, closing) and TLS.", "state", "tls"),

		logins:      desc("logins_total", "Password checks answered, by result (ok, refused, tls_required, error).", "result"),
		commands:    desc("commands_total", "Commands answered, by verb and the class of their final reply.", "verb", "class"),
		commandTime: desc("command_duration_seconds", "Time from a command's line to its final reply, by verb.", "verb"),

		transfers:         desc("transfers_total", "Data transfers ended, by direction (download, upload, listing) and result (ok, aborted, failed).", "direction", "result"),
		transferBytes:     desc("transfer_bytes_total", "Bytes moved on data connections, by direction.", "direction"),
		transferTime:      desc("transfer_duration_seconds", "Time from a transfer command's line to the transfer's end, by direction.", "direction"),
		transfersInFlight: desc("transfers_in_flight", "Data transfers in flight."),
		transfersMax:      desc("transfers_max", "Data transfers allowed at once (max_transfers)."),

		refusals:   desc("refusals_total", "Work refused by a limit, a fair share or a ban: what was refused and why.", "what", "reason"),
		tlsStarted: desc("tls_handshakes_started_total", "TLS handshakes started on control connections (AUTH TLS, implicit FTPS)."),
		tlsDone:    desc("tls_handshakes_total", "TLS handshakes of control connections that ended, by result (ok, failed).", "result"),

		poolWorkers:  desc("pool_workers", "Goroutines of each worker pool (storage, password).", "pool"),
		poolCapacity: desc("pool_capacity", "Tasks a worker pool takes at once, running and queued.", "pool"),
		poolTasks:    desc("pool_tasks", "Tasks in each worker pool, by state (running, queued).", "pool", "state"),

		passiveInUse:    desc("passive_in_use", "Sessions holding a passive listener (from PASV/EPSV until the transfer's data connection or its end)."),
		passiveCapacity: desc("passive_capacity", "Passive listeners the sessions may hold at once (the passive port range, or the descriptor budget's share)."),
		passiveIdle:     desc("passive_listeners_idle", "Passive listeners kept open for reuse."),

		fdsUsed:        desc("descriptors_used", "File descriptors taken from the budget by sessions, passive listeners and transfers."),
		fdsLimit:       desc("descriptors_limit", "The descriptor budget: the open-file limit less what the process holds otherwise."),
		hashedBytes:    desc("checksum_bytes_total", "Bytes read by checksums (HASH, XCRC, XMD5, XSHA*)."),
		dataTLS:        desc("data_tls_handshakes_total", "TLS handshakes of protected data connections (PROT P) that ended, by result (ok, failed; a refused session reuse fails).", "result"),
		cacheHits:      desc("cache_hits_total", "Answers sent from a cache, by cache (stat: SIZE, MDTM, MLST answered on the event loop; list: listings sent from memory).", "cache"),
		listCacheBytes: desc("list_cache_bytes", "Bytes the listing cache holds: kept listings, dropped ones still being sent, captures under way."),
		listCacheLimit: desc("list_cache_limit_bytes", "The listing cache's budget (limits.list_cache); absent when it is off."),
		foreignData:    desc("foreign_data_connections_total", "Data connections refused for coming from another address than their control connection."),
		sendBusy:       desc("send_threads_busy", "Downloads sent by blocking sendfile calls now, each holding a thread."),
		sendMax:        desc("send_threads_max", "Downloads that may hold a send thread at once (limits.send_threads)."),
		sendDownloads:  desc("send_thread_downloads_total", "Downloads that took a send thread."),
		sendSlow:       desc("send_thread_slow_total", "Downloads that gave their send thread back for being slow, to wait in the netpoller."),
	}
}

// Describe sends every metric's description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.buildInfo, c.loopUp, c.accepting, c.sessions,
		c.logins, c.commands, c.commandTime,
		c.transfers, c.transferBytes, c.transferTime, c.transfersInFlight, c.transfersMax,
		c.refusals, c.tlsStarted, c.tlsDone,
		c.poolWorkers, c.poolCapacity, c.poolTasks,
		c.passiveInUse, c.passiveCapacity, c.passiveIdle,
		c.fdsUsed, c.fdsLimit, c.foreignData, c.dataTLS, c.hashedBytes, c.cacheHits,
		c.listCacheBytes, c.listCacheLimit,
		c.sendBusy, c.sendMax, c.sendDownloads, c.sendSlow,
	} {
		ch <- d
	}
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func counter(ch chan<- prometheus.Metric, d *prometheus.Desc, v uint64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
}

func histogram(ch chan<- prometheus.Metric, d *prometheus.Desc, h reactor.Histogram, labels ...string) {
	buckets := make(map[float64]uint64, len(h.Bounds))
	for i, b := range h.Bounds {
		buckets[b] = h.Counts[i]
	}
	ch <- prometheus.MustNewConstHistogram(d, h.Count, h.Sum, buckets, labels...)
}

func bit(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Collect reads the snapshots and sends the metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	gauge(ch, c.buildInfo, 1, c.version)
	gauge(ch, c.accepting, bit(c.r.Accepting()))

	ctx, cancel := context.WithTimeout(context.Background(), c.wait)
	phases, err := c.r.Phases(ctx)
	cancel()
	gauge(ch, c.loopUp, bit(err == nil))
	if err == nil {
		for p := range protocol.NumPhases {
			for tls, n := range phases[p] {
				gauge(ch, c.sessions, float64(n), p.String(), strconv.FormatBool(tls == 1))
			}
		}
	}

	rs := c.r.Stats()
	for r := range reactor.NumLoginResults {
		counter(ch, c.logins, rs.Logins[r], r.String())
	}
	// Only the verbs and classes seen: most of the 48 verbs never are.
	for _, v := range rs.Commands {
		for k, n := range v.Replies {
			if n > 0 {
				counter(ch, c.commands, n, v.Verb, reactor.ReplyClasses[k])
			}
		}
		if v.Time.Count > 0 {
			histogram(ch, c.commandTime, v.Time, v.Verb)
		}
	}
	for d := range reactor.NumDirections {
		t := rs.Transfers[d]
		for r := range protocol.NumXferResults {
			counter(ch, c.transfers, t.Results[r], d.String(), r.String())
		}
		counter(ch, c.transferBytes, t.Bytes, d.String())
		histogram(ch, c.transferTime, t.Time, d.String())
	}
	counter(ch, c.tlsStarted, rs.TLSHandshakes.Started)
	counter(ch, c.tlsDone, rs.TLSHandshakes.Succeeded, "ok")
	counter(ch, c.tlsDone, rs.TLSHandshakes.Failed, "failed")
	gauge(ch, c.passiveInUse, float64(rs.PassiveInUse))
	if rs.PassiveCapacity > 0 {
		gauge(ch, c.passiveCapacity, float64(rs.PassiveCapacity))
	}
	for _, r := range rs.Refusals {
		counter(ch, c.refusals, r.Count, r.What, r.Reason)
	}

	ds := c.d.Stats()
	for _, r := range []reactor.Refusal{
		{What: "session", Reason: "descriptors", Count: ds.DescriptorsRefused.Session},
		{What: "passive", Reason: "descriptors", Count: ds.DescriptorsRefused.Passive},
		{What: "transfer", Reason: "descriptors", Count: ds.DescriptorsRefused.Transfer},
		{What: "transfer", Reason: "share", Count: ds.TransfersRefused},
		{What: "storage_task", Reason: "queue_full", Count: ds.Storage.Refused},
		{What: "password_check", Reason: "queue_full", Count: ds.Password.Refused},
		{What: "checksum", Reason: "queue_full", Count: ds.Hash.Refused},
	} {
		counter(ch, c.refusals, r.Count, r.What, r.Reason)
	}
	for _, p := range []struct {
		name string
		st   dtp.PoolStats
	}{{"storage", ds.Storage}, {"password", ds.Password}, {"checksum", ds.Hash}} {
		gauge(ch, c.poolWorkers, float64(p.st.Workers), p.name)
		gauge(ch, c.poolCapacity, float64(p.st.Capacity), p.name)
		gauge(ch, c.poolTasks, float64(p.st.Running), p.name, "running")
		gauge(ch, c.poolTasks, float64(p.st.Queued), p.name, "queued")
	}
	gauge(ch, c.transfersInFlight, float64(ds.Transfers))
	gauge(ch, c.transfersMax, float64(ds.MaxTransfers))
	gauge(ch, c.passiveIdle, float64(ds.IdleListeners))
	gauge(ch, c.fdsUsed, float64(ds.Descriptors))
	if ds.DescriptorLimit > 0 {
		gauge(ch, c.fdsLimit, float64(ds.DescriptorLimit))
	}
	counter(ch, c.foreignData, ds.ForeignData)
	counter(ch, c.hashedBytes, uint64(ds.HashedBytes))
	counter(ch, c.dataTLS, ds.DataTLS.OK, "ok")
	counter(ch, c.dataTLS, ds.DataTLS.Failed, "failed")
	counter(ch, c.cacheHits, ds.StatCacheHits, "stat")
	counter(ch, c.cacheHits, ds.ListCacheHits, "list")
	gauge(ch, c.listCacheBytes, float64(ds.ListCacheBytes))
	if ds.ListCacheLimit > 0 {
		gauge(ch, c.listCacheLimit, float64(ds.ListCacheLimit))
	}
	gauge(ch, c.sendBusy, float64(ds.SendThreads.Busy))
	gauge(ch, c.sendMax, float64(ds.SendThreads.Max))
	counter(ch, c.sendDownloads, ds.SendThreads.Downloads)
	counter(ch, c.sendSlow, ds.SendThreads.Slow)
}
