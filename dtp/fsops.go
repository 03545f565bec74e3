// Storage operations on the control channel, confined to the session's os.Root.
package dtp

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"github.com/rftpd/rftpd/protocol"
)

// relPath maps an FTP path to a root-relative one: "/" and "" become ".",
// "/pub/../a" becomes "a". Nothing it returns starts with "/" or "..".
func relPath(p string) string {
	c := strings.TrimPrefix(path.Clean("/"+p), "/")
	if c == "" {
		return "."
	}
	return c
}

// errNotRegular refuses to read or write a FIFO, socket or device: RETR,
// STOR and APPE serve regular files only. (Reading a FIFO could wait for
// a writer forever; a device may act on being opened.)
var errNotRegular = fmt.Errorf("dtp: not a regular file: %w", protocol.ErrPermission)

// errReserved refuses a path with a reserved name in it (an atomic
// upload's temporary file, protocol.ReservedPrefix): the session refuses
// them before asking; this is defence in depth.
var errReserved = fmt.Errorf("dtp: reserved name: %w", protocol.ErrBadName)

// checkRel refuses a root-relative path with a reserved element.
func checkRel(rel string) error {
	for rel != "" {
		var elem string
		elem, rel, _ = strings.Cut(rel, "/")
		if protocol.IsReservedName(elem) {
			return errReserved
		}
	}
	return nil
}

// errRoot refuses operations that would remove or rename the root itself.
var errRoot = fmt.Errorf("dtp: the root directory cannot be changed: %w", protocol.ErrPermission)

// hook runs cfg.OpHook before the storage operation op.
func (s *Server) hook(op string) error {
	if s.cfg.OpHook == nil {
		return nil
	}
	if err := s.cfg.OpHook(op); err != nil {
		return fmt.Errorf("dtp: %s: %w", op, err)
	}
	return nil
}

// isEscape reports whether err is os.Root's refusal of a path that leaves
// the root ("../x", or a symlink pointing outside). os does not export that
// error, so its text is matched here and nowhere else.
func isEscape(err error) bool {
	return err != nil && strings.Contains(err.Error(), "path escapes from parent")
}

// storageErr maps an error of os or os.Root to the protocol's errors,
// keeping the original wrapped (errors.Is(err, fs.ErrNotExist) still works).
func storageErr(err error) error {
	if err == nil {
		return nil
	}
	if isEscape(err) {
		return fmt.Errorf("dtp: %w (%w)", protocol.ErrEscapes, err)
	}
	if p := errnoProtocol(err); p != nil {
		return fmt.Errorf("dtp: %w (%w)", p, err)
	}
	if strings.HasPrefix(err.Error(), "dtp: ") {
		return err
	}
	return fmt.Errorf("dtp: %w", err)
}

// infoOf converts a fs.FileInfo, naming it name.
func infoOf(fi fs.FileInfo, name string) protocol.FileInfo {
	return protocol.FileInfo{Name: name, Size: fi.Size(), ModTime: fi.ModTime(), Mode: fi.Mode(), Nlink: nlinkOf(fi)}
}

// baseName is the name reported for an FTP path: its last element, "/" for the root.
func baseName(p string) string {
	return path.Base(path.Clean("/" + p))
}

// fileOp queues a ReqFile on the storage pool.
func (s *Server) fileOp(sess *Session, r protocol.ReqFile, post func(protocol.Event)) {
	gen := s.statc.generation()
	if !s.fs.submit(sess.info.Remote.Addr(), func() {
		id := sess.holdIdentity()
		ev := s.runFileOp(id, r)
		switch {
		case isChange(r.Op):
			s.statc.changed()
		case cacheable(r) && ev.Err == nil && id != nil:
			s.statc.put(id.root, relPath(r.Path), ev.Info, gen, time.Now())
		}
		releaseIdentity(id)
		s.auditChange(sess, id, r, ev.Err)
		post(ev)
	}) {
		s.auditChange(sess, sess.identity(), r, protocol.ErrBusy)
		post(protocol.EvFile{Op: r.Op, Err: protocol.ErrBusy})
	}
}

// runFileOp does one storage operation for id; it runs on a worker.
func (s *Server) runFileOp(id *identity, r protocol.ReqFile) protocol.EvFile {
	ev := protocol.EvFile{Op: r.Op}
	fi, err := s.doFileOp(id, r)
	if err != nil {
		ev.Err = storageErr(err)
		return ev
	}
	if fi != nil {
		ev.Info = infoOf(fi, baseName(r.Path))
	}
	return ev
}

// fileOps gives each operation its hook name and the permission it needs.
var fileOps = map[protocol.FileOp]struct {
	name string
	perm protocol.Perm
}{
	protocol.OpStat:        {"stat", 0},
	protocol.OpRenameCheck: {"lstat", protocol.PermRename},
	protocol.OpMkdir:       {"mkdir", protocol.PermMkdir},
	protocol.OpRmdir:       {"rmdir", protocol.PermDelete},
	protocol.OpDelete:      {"delete", protocol.PermDelete},
	protocol.OpRename:      {"rename", protocol.PermRename},
	protocol.OpChmod:       {"chmod", protocol.PermWrite},
	protocol.OpSetTime:     {"chtimes", protocol.PermWrite},
}

func (s *Server) doFileOp(id *identity, r protocol.ReqFile) (fs.FileInfo, error) {
	op, ok := fileOps[r.Op]
	if !ok {
		return nil, fmt.Errorf("dtp: unknown file operation %d", r.Op)
	}
	if err := id.allow(op.perm); err != nil {
		return nil, err
	}
	if err := s.hook(op.name); err != nil {
		return nil, err
	}
	root, rel := id.root, relPath(r.Path)
	if err := checkRel(rel); err != nil {
		return nil, err
	}
	if r.Op == protocol.OpRename {
		if err := checkRel(relPath(r.Path2)); err != nil {
			return nil, err
		}
	}
	switch r.Op {
	case protocol.OpStat:
		fi, err := statPath(id, rel)
		if err != nil || !r.ASCII || !fi.Mode().IsRegular() {
			return fi, err
		}
		return asciiStat(id, rel, fi)
	case protocol.OpRenameCheck:
		if rel == "." {
			return nil, errRoot
		}
		return root.Lstat(rel)
	case protocol.OpMkdir:
		if err := root.Mkdir(rel, 0o755); err != nil {
			return nil, err
		}
		return statPath(id, rel)
	case protocol.OpRmdir:
		if rel == "." {
			return nil, errRoot
		}
		return nil, removeDir(root, rel)
	case protocol.OpDelete:
		if rel == "." {
			return nil, fmt.Errorf("dtp: %w", protocol.ErrIsDir)
		}
		return nil, removeFile(root, rel)
	case protocol.OpRename:
		rel2 := relPath(r.Path2)
		if rel == "." || rel2 == "." {
			return nil, errRoot
		}
		return nil, root.Rename(rel, rel2)
	case protocol.OpChmod:
		return nil, root.Chmod(rel, r.Mode&0o777)
	case protocol.OpSetTime:
		// A zero access time leaves it unchanged.
		if err := root.Chtimes(rel, time.Time{}, r.Time); err != nil {
			return nil, err
		}
		return statPath(id, rel)
	}
	return nil, errors.New("dtp: unreachable")
}

// splitRel splits a root-relative path (not ".") into its directory and
// its last element, which is never "", "." or "..".
func splitRel(rel string) (dir, name string) {
	dir, name = path.Split(rel)
	if dir == "" {
		return ".", name
	}
	return strings.TrimSuffix(dir, "/"), name
}

// openRead opens rel for reading without blocking on FIFOs: the caller
// checks the file type from the open descriptor.
func openRead(root *os.Root, rel string) (*os.File, error) {
	return root.OpenFile(rel, os.O_RDONLY|oNonblock, 0)
}
