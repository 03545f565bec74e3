// Scenarios on the control connection only: login and noop.
package bench

import (
	"context"
	"fmt"
	"time"
)

// quitWait bounds how long login waits for the server to close after 221.
const quitWait = time.Second

func runLogin(ctx context.Context, cfg Config) (*Result, error) {
	t := cfg.Target
	r := runJob(ctx, cfg, job{
		name:   "login",
		unit:   "sessions",
		target: t,
		op: func(ctx context.Context, w *worker) (int64, error) {
			c, err := DialTarget(ctx, t, w.src, cfg.Timeout)
			if err != nil {
				return 0, err
			}
			w.held.Store(c)
			defer w.held.Store(nil)
			if err := c.Login(t.User, t.Pass); err != nil {
				c.Close()
				return 0, err
			}
			c.timeout = min(cfg.Timeout, quitWait)
			return 0, c.Quit()
		},
	})
	r.Notes = append(r.Notes, "user "+t.User)
	return r, nil
}

func runNoop(ctx context.Context, cfg Config) (*Result, error) {
	pop, err := holdBeside(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer pop.close()
	sizePath := cfg.Target.Join(fmt.Sprintf("%s/%04d.bin", cfg.Layout.SmallDir, 0))
	r := runJob(ctx, cfg, job{
		name:    "noop",
		unit:    "commands",
		target:  cfg.Target,
		session: true,
		op: func(ctx context.Context, w *worker) (int64, error) {
			var err error
			switch w.seq % 3 {
			case 0:
				_, err = w.conn.Expect("NOOP", 200)
			case 1:
				_, err = w.conn.Expect("PWD", 257)
			case 2:
				_, err = w.conn.Expect("SIZE "+sizePath, 213)
			}
			return 0, err
		},
	})
	r.Notes = append(r.Notes, "NOOP, PWD, SIZE in turn")
	pop.report(r, cfg.Hold)
	return r, nil
}

// holdBeside opens cfg.Hold idle sessions to be held while a scenario
// runs beside them (nil when cfg.Hold is 0), after checking that the
// open-file limit admits them and the scenario's own.
func holdBeside(ctx context.Context, cfg Config) (*population, error) {
	if err := checkFiles(cfg, cfg.Hold+cfg.Concurrency); err != nil {
		return nil, err
	}
	if cfg.Hold <= 0 {
		return nil, nil
	}
	return holdSessions(ctx, cfg, cfg.Hold), nil
}

// report records in r how many sessions p held of the requested, and
// counts those that failed to open as r's errors. A nil p reports nothing.
func (p *population) report(r *Result, requested int) {
	if p == nil {
		return
	}
	r.Held = p.held()
	r.Notes = append(r.Notes, fmt.Sprintf("%d idle sessions held (%d requested, %d failed to open)", p.held(), requested, p.failed))
	if p.failed > 0 {
		r.Errors += int64(p.failed)
		if r.ErrorKinds == nil {
			r.ErrorKinds = map[string]int64{}
		}
		for k, v := range p.errs.snapshot() {
			r.ErrorKinds["idle population: "+k] += v
		}
	}
}
