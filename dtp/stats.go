// Stats: a snapshot of the DTP's pools, transfers, descriptors and refusals, for metrics.
package dtp

import "github.com/rftpd/rftpd/dtp/fair"

// Stats is a snapshot of the DTP's load and of the work it refused since
// it started. Every number is read without stopping the DTP, so they are
// each exact but not taken at one instant together.
type Stats struct {
	Storage  PoolStats // the storage pool: file ops, STAT listings, passive listeners
	Password PoolStats // the password-check pool
	Hash     PoolStats // the checksum pool (HASH, XMD5, ...)
	// HashedBytes counts the bytes checksums have read.
	HashedBytes int64

	Transfers        int    // in flight
	MaxTransfers     int    // Config.MaxTransfers
	TransfersRefused uint64 // refused for MaxTransfers or the client's fair share of it (ErrBusy)

	// Descriptors taken from the budget and its size (the transfers'
	// ceiling: the whole budget); both 0 without a budget.
	Descriptors, DescriptorLimit int
	// DescriptorsRefused counts the budget's refusals by what they were
	// for: passive listeners and transfers here, control connections in
	// the reactor.
	DescriptorsRefused struct{ Session, Passive, Transfer uint64 }

	IdleListeners int    // passive listeners kept open for reuse
	ForeignData   uint64 // data connections refused for coming from the wrong address
	StatCacheHits uint64 // stats answered from the stat cache on the loop (statcache.go)
	ListCacheHits uint64 // listings sent from the listing cache (listcache.go)
	// ListCacheBytes: what the listing cache holds now (kept listings,
	// dropped ones still being sent, captures under way) and its budget
	// (Config.ListCache; 0 when it is off).
	ListCacheBytes, ListCacheLimit int64

	// DataTLS counts the TLS handshakes of protected data connections
	// (PROT P) by result; a refused session reuse is a failure.
	DataTLS struct{ OK, Failed uint64 }

	// SendThreads: downloads in blocking sendfile calls now and at most
	// (Config.SendThreads), how many took a thread since the start, and
	// how many of those gave it back for being slow (lane.go).
	SendThreads struct {
		Busy, Max       int
		Downloads, Slow uint64
	}
}

// PoolStats describes one worker pool.
type PoolStats struct {
	Workers  int    // goroutines
	Capacity int    // tasks queued and running at most (workers + queue)
	Running  int    // tasks running now
	Queued   int    // tasks waiting for a worker
	Refused  uint64 // tasks refused: the queue was full, or the client over its share of it (ErrBusy)
}

// stats reads p.
func (p *pool) stats() PoolStats {
	held, queued := p.slots.Used(), p.waiting()
	return PoolStats{
		Workers:  p.workers,
		Capacity: p.slots.Capacity(),
		Running:  max(held-queued, 0),
		Queued:   queued,
		Refused:  p.slots.Refused(),
	}
}

// Stats reads the DTP's counters; safe from any goroutine, it takes a few
// short locks and never blocks on work in progress.
func (s *Server) Stats() Stats {
	st := Stats{
		Storage:          s.fs.stats(),
		Password:         s.auth.stats(),
		Hash:             s.hashes.stats(),
		HashedBytes:      s.hashed.Load(),
		Transfers:        s.xfers.Used(),
		MaxTransfers:     s.xfers.Capacity(),
		TransfersRefused: s.xfers.Refused(),
		Descriptors:      s.fds.Used(),
		DescriptorLimit:  s.fds.Ceiling(fair.Transfer),
		IdleListeners:    s.lns.idleCount(),
		ForeignData:      s.foreign.Load(),
		StatCacheHits:    s.statHits.Load(),
		ListCacheHits:    s.listc.hitCount(),
		ListCacheBytes:   s.listc.usedBytes(),
		ListCacheLimit:   s.listc.limit(),
		DataTLS:          struct{ OK, Failed uint64 }{s.dataTLSOK.Load(), s.dataTLSFailed.Load()},
	}
	if l := s.lanes; l != nil {
		st.SendThreads.Busy, st.SendThreads.Max = int(l.busy.Load()), int(l.max)
		st.SendThreads.Downloads, st.SendThreads.Slow = l.entered.Load(), l.slow.Load()
	}
	st.DescriptorsRefused.Session = s.fds.Refused(fair.Session)
	st.DescriptorsRefused.Passive = s.fds.Refused(fair.Passive)
	st.DescriptorsRefused.Transfer = s.fds.Refused(fair.Transfer)
	return st
}
