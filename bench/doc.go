// Package bench is the library behind ftpbench, a load generator for any FTP
// server reachable at an ftp:// URL.
//
// It has four parts:
//
//   - a client (client.go, data.go) that speaks the control connection
//     directly and opens data connections with EPSV, PASV or PORT; downloads
//     are spliced into /dev/null (or read with 1 MiB buffers) and uploads are
//     sent with sendfile from a local file, so the client is not the
//     bottleneck;
//   - scenarios (sc_*.go): idle, login, noop, small-get, small-put, large-get,
//     large-put, list and mixed, each run by C workers for a duration or a
//     count of operations (runner.go);
//   - statistics: a log-linear latency histogram (hist.go) and the PSS of a
//     server process tree read from /proc (pss.go);
//   - reports: a text table, JSON and an SVG chart (report.go, svg.go), and a
//     live progress line on a terminal (progress.go).
//
// The data set a server should serve is described by Layout and made by
// MakeDataset (dataset.go). FillCache (cachefill.go) fills the page cache
// with throwaway files before a run, so that uploads are measured as on a
// busy file server, whose cache is always full. Starting rftpd and its peers lives in bench/peers.
package bench
