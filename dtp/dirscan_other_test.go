//go:build !linux

package dtp

// scanBatchMax is the most entries one scanner batch holds: Readdirnames
// returns listBatch names at a time.
const scanBatchMax = listBatch
