// Tests of reserved names in the DTP (defence in depth behind the session's check): no request reaches an upload's temporary file.
package dtp

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rftpd/rftpd/protocol"
)

func TestReservedNamesRefused(t *testing.T) {
	// The start-up clean-up would remove the file below, an unlocked
	// temporary file of another instance, if its walk came after the write.
	cfg := DefaultConfig()
	cfg.CleanStaleUploads = false
	e := newEnv(t, &cfg)
	const tmp = ".rftpd-upload.1a2b3c4d.0123456789ab"
	e.write(tmp, []byte("someone's upload"))
	e.write(".rftpd-upload.stash/inside", []byte("x"))
	e.write("a.txt", []byte("a"))
	for _, r := range []protocol.ReqFile{
		{Op: protocol.OpStat, Path: tmp},
		{Op: protocol.OpStat, Path: "/.RFTPD-UPLOAD.stash/inside"},
		{Op: protocol.OpRenameCheck, Path: tmp},
		{Op: protocol.OpDelete, Path: tmp},
		{Op: protocol.OpDelete, Path: "/.rftpd-upload.stash/inside"},
		{Op: protocol.OpRmdir, Path: ".rftpd-upload.stash"},
		{Op: protocol.OpMkdir, Path: "/.rftpd-upload.new"},
		{Op: protocol.OpRename, Path: tmp, Path2: "mine"},
		{Op: protocol.OpRename, Path: "a.txt", Path2: ".rftpd-upload.hidden"},
		{Op: protocol.OpChmod, Path: tmp, Mode: 0o600},
		{Op: protocol.OpSetTime, Path: tmp, Time: time.Unix(0, 0)},
	} {
		e.do(r)
		mustErr(t, expect[protocol.EvFile](t, e.ev).Err, protocol.ErrBadName)
	}
	e.do(protocol.ReqStatList{Path: "/" + tmp})
	mustErr(t, expect[protocol.EvStatList](t, e.ev).Err, protocol.ErrBadName)
	for _, r := range []protocol.ReqTransfer{
		{Kind: protocol.XferRetr, Path: tmp},
		{Kind: protocol.XferList, Path: "/.rftpd-upload.stash"},
		{Kind: protocol.XferMlsd, Path: "/.rftpd-upload.stash"},
		{Kind: protocol.XferStor, Path: tmp},
		{Kind: protocol.XferAppe, Path: tmp},
		{Kind: protocol.XferStor, Path: ".rftpd-upload.stash/f"},
	} {
		e.pasv()
		e.do(r)
		mustErr(t, expect[protocol.EvTransferDone](t, e.ev).Err, protocol.ErrBadName)
	}
	mustContent(t, e, tmp, []byte("someone's upload"))
	mustContent(t, e, ".rftpd-upload.stash/inside", []byte("x"))
	mustContent(t, e, "a.txt", []byte("a"))
	for _, name := range []string{".rftpd-upload.new", ".rftpd-upload.hidden", "mine"} {
		if _, err := os.Lstat(filepath.Join(e.dir, name)); err == nil {
			t.Errorf("%s was made", name)
		}
	}
}
