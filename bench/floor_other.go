//go:build !linux

// The floor server needs Linux's epoll: elsewhere it cannot start.
package bench

import "errors"

// Floor is the noop rows' floor server; it runs on Linux only.
type Floor struct{ Root string }

var errFloor = errors.New("bench: floor: needs Linux")

// Listen fails: the floor runs on Linux only.
func (f *Floor) Listen(string) (string, error) { return "", errFloor }

// Serve fails: the floor runs on Linux only.
func (f *Floor) Serve() error { return errFloor }

// Close does nothing.
func (f *Floor) Close() error { return nil }
