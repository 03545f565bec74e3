// ftpbench floor: run the noop floor server until SIGTERM or SIGINT.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/rftpd/rftpd/bench"
)

func floor(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ftpbench floor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("root", "", "folder SIZE looks in")
	listen := fs.String("listen", "127.0.0.1:0", "IPv4 address to listen on")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *root == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: ftpbench floor -root DIR [-listen ADDR]")
		return 2
	}
	f := &bench.Floor{Root: *root}
	addr, err := f.Listen(*listen)
	if err != nil {
		fmt.Fprintf(stderr, "ftpbench: %v\n", err)
		return 1
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		f.Close()
	}()
	fmt.Fprintf(stdout, "ftpbench: floor listening on ftp://%s\n", addr)
	if err := f.Serve(); err != nil {
		fmt.Fprintf(stderr, "ftpbench: %v\n", err)
		return 1
	}
	return 0
}
