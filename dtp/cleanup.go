// Temporary upload files: their names, the lock that marks them live, and the start-up clean-up of dead ones.
package dtp

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"sync"
	"syscall"

	"github.com/rftpd/rftpd/protocol"
)

// An atomic upload writes to a file named
//
//	.rftpd-upload.<instance>.<random>
//
// in the target's folder: protocol.ReservedPrefix, the Server's instance
// tag (8 hex digits drawn at New, so a new one at every start), and 12
// random hex digits. The upload holds an exclusive flock(2) on that file
// from just after creating it until the file has been renamed over its
// target or removed; a file of that form that nobody holds locked is the
// leftover of an upload whose process died (kill -9, a crash, a power
// cut).
//
// At start-up (New) one goroutine walks every root an account may write
// to and removes the leftovers of other instances: a file is removed only
// when this process can take its lock (and it is still the file of that
// name). Files of a live instance, on this host or any other sharing the
// tree, are locked and stay; so do the files of this instance, names of
// any other form under the reserved prefix, and anything that is not a
// regular file. An upload that finds its new file locked or already
// unlinked (a clean-up got there between its create and its lock) picks
// another name.
//
// Liveness is the kernel's lock table, so it needs no clock, pid or host
// name, and holds across pid namespaces. It needs flock locks that every
// instance sharing the tree sees: any local file system, NFSv4 (Linux
// maps flock to NFS locks) and CephFS do; where locks stay local to a
// host (NFS mounted with local_lock=flock or all, CIFS with nobrl), turn
// the clean-up off (Config.CleanStaleUploads) on all but one host.

// instanceLen is the length of the instance tag in a temporary name.
const instanceLen = 8

// newInstance draws an instance tag.
func newInstance() string {
	var b [instanceLen / 2]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// tempInstance returns the instance tag of a temporary upload file's
// name, and false for any other name (including other names under the
// reserved prefix).
func tempInstance(name string) (string, bool) {
	const n = len(tempPrefix) + instanceLen + 1 + 12
	if len(name) != n || name[:len(tempPrefix)] != tempPrefix || name[len(tempPrefix)+instanceLen] != '.' {
		return "", false
	}
	inst := name[len(tempPrefix) : len(tempPrefix)+instanceLen]
	if !isLowerHex(inst) || !isLowerHex(name[len(tempPrefix)+instanceLen+1:]) {
		return "", false
	}
	return inst, true
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// createTemp creates the temporary file of an atomic upload in the root-
// relative folder dir, O_EXCL, and locks it (see above). It returns the
// file and its root-relative name.
func (s *Server) createTemp(root *os.Root, dir string) (*os.File, string, error) {
	var err error
	for range stouTries {
		name := path.Join(dir, tempPrefix+s.instance+"."+randomHex())
		var f *os.File
		f, err = root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNonblock, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		held, lerr := tryLock(f)
		if held {
			f.Close() // a clean-up holds it and removes it: another name
			continue
		}
		if lerr == nil {
			// Locked; a clean-up that locked and unlinked it first is
			// seen in its link count.
			if fi, serr := f.Stat(); serr == nil && linkCount(fi) == 0 {
				f.Close()
				continue
			}
		}
		// A file system without locks: the upload goes on unlocked, and
		// no clean-up can decide about it (it keeps such files).
		return f, name, nil
	}
	return nil, "", err
}

// linkCount is the number of names of the file fi describes; 1 when it
// cannot be told.
func linkCount(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1
}

// CleanupReport is what the start-up clean-up did in one root.
type CleanupReport struct {
	Root    string   // the root's directory
	Dirs    int      // folders walked
	Removed int      // leftover temporary files of dead instances removed
	Names   []string // the first 16 of them, root-relative
	Kept    int      // temporary files of other instances that are live (locked), or could not be checked
	Err     error    // reading a folder to its end failed (the walk went on), or Close stopped the walk
}

// cleaner runs the start-up clean-up in the background.
type cleaner struct {
	stop chan struct{}
	once sync.Once // closes stop
	done sync.WaitGroup
}

// startCleanup walks roots on one goroutine, reporting each root to
// report when it is done.
func (s *Server) startCleanup(roots []*rootDir, report func(CleanupReport)) {
	s.clean.stop = make(chan struct{})
	s.clean.done.Add(1)
	go func() {
		defer s.clean.done.Done()
		for _, r := range roots {
			rep := s.cleanRoot(r)
			if report != nil {
				report(rep)
			}
			if rep.Err == errCleanupStopped {
				return
			}
		}
	}()
}

// stopCleanup ends a clean-up still running and waits for it.
func (s *Server) stopCleanup() {
	if s.clean.stop != nil {
		s.clean.once.Do(func() { close(s.clean.stop) })
		s.clean.done.Wait()
	}
}

var errCleanupStopped = errors.New("dtp: clean-up stopped by Close")

// cleanRoot removes the dead instances' temporary files under r: a walk
// of every folder (symlinks are not followed, reserved folders not
// entered), reading each in batches so that neither a wide nor a deep tree
// is held in memory beyond the folders still to visit.
func (s *Server) cleanRoot(r *rootDir) CleanupReport {
	rep := CleanupReport{Root: r.path}
	todo := []string{"."}
	for len(todo) > 0 {
		dir := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		d, err := r.root.Open(dir)
		if err != nil {
			continue // gone meanwhile, or unreadable: nothing to do there
		}
		rep.Dirs++
		for {
			select {
			case <-s.clean.stop:
				d.Close()
				rep.Err = errCleanupStopped
				return rep
			default:
			}
			ents, err := d.ReadDir(listBatch)
			for _, e := range ents {
				name := e.Name()
				rel := path.Join(dir, name)
				switch {
				case e.IsDir():
					if !protocol.IsReservedName(name) {
						todo = append(todo, rel)
					}
				case !e.Type().IsRegular():
				default:
					inst, ok := tempInstance(name)
					if !ok || inst == s.instance {
						continue
					}
					if removeDead(r.root, rel) {
						rep.Removed++
						if len(rep.Names) < 16 {
							rep.Names = append(rep.Names, rel)
						}
					} else {
						rep.Kept++
					}
				}
			}
			if err != nil {
				if err != io.EOF {
					rep.Err = storageErr(err)
				}
				break
			}
		}
		d.Close()
	}
	return rep
}

// removeDead removes the temporary file rel if no one holds its lock, and
// reports whether it did. The lock is held across the unlink, and the name
// must still be the file that was locked.
func removeDead(root *os.Root, rel string) bool {
	f, err := root.OpenFile(rel, os.O_RDONLY|oNonblock, 0)
	if errors.Is(err, fs.ErrPermission) {
		f, err = root.OpenFile(rel, os.O_WRONLY|oNonblock, 0) // a write-only upload
	}
	if err != nil {
		return false
	}
	defer f.Close()
	if held, err := tryLock(f); held || err != nil {
		return false
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	if now, err := root.Lstat(rel); err != nil || !os.SameFile(fi, now) {
		return false
	}
	return root.Remove(rel) == nil
}
