// Guards the sans-IO rule: the package imports no net, os, syscall or gnet.
package protocol

import (
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// forbiddenImport reports whether the package may not import path directly.
func forbiddenImport(path string) bool {
	switch {
	case path == "net/netip":
		return false
	case path == "net", strings.HasPrefix(path, "net/"),
		path == "os", strings.HasPrefix(path, "os/"),
		path == "syscall", strings.HasPrefix(path, "golang.org/x/sys"),
		path == "unsafe",
		strings.Contains(path, "gnet"):
		return true
	}
	return false
}

func TestNoIOImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	n := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue // tests may read testdata
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		n++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if forbiddenImport(p) {
				t.Errorf("%s imports %q: package protocol must do no I/O", name, p)
			}
		}
	}
	if n == 0 {
		t.Fatal("no package files found")
	}
}

// TestNoIODeps checks the whole dependency graph with go list: no package
// reachable from protocol may be net (sockets), os or gnet. (syscall is
// reached through time, which reads zoneinfo, and cannot be ruled out
// transitively.)
func TestNoIODeps(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "net" || dep == "os" || strings.HasPrefix(dep, "os/") || strings.Contains(dep, "gnet") {
			t.Errorf("protocol depends on %s", dep)
		}
	}
}
