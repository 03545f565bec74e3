// ftpbench ceiling: run the raw sendfile ceiling server until killed.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/rftpd/rftpd/bench"
)

func ceiling(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ftpbench ceiling", flag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("root", "", "folder whose files RETR sends")
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *root == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: ftpbench ceiling -root DIR [-listen ADDR]")
		return 2
	}
	r, err := os.OpenRoot(*root)
	if err != nil {
		fmt.Fprintf(stderr, "ftpbench: ceiling: %v\n", err)
		return 1
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "ftpbench: ceiling: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "ftpbench: ceiling listening on ftp://%s\n", ln.Addr())
	if err := (&bench.Ceiling{Root: r}).Serve(ln); err != nil {
		fmt.Fprintf(stderr, "ftpbench: ceiling: %v\n", err)
		return 1
	}
	return 0
}
