package protocol

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

// TestErrReplies pins the code and text chosen for each worker error, wrapped
// the way the DTP wraps them.
func TestErrReplies(t *testing.T) {
	wrap := func(e error) error { return fmt.Errorf("dtp: %w (some errno)", e) }
	tests := []struct {
		err          error
		file, upload string
	}{
		{wrap(fs.ErrNotExist), "550 No such file or directory.", "553 Could not create file."},
		{wrap(ErrBadName), "550 File name not allowed.", "553 File name not allowed."},
		{wrap(ErrEscapes), "550 Permission denied.", "550 Permission denied."},
		{wrap(ErrNotEmpty), "550 Directory not empty.", "451 Requested action aborted: local error in processing."},
		{wrap(ErrBusy), "450 Server busy, try again later.", "450 Server busy, try again later."},
		{wrap(ErrNoSpace), "452 Insufficient storage space.", "452 Insufficient storage space."},
		{errors.New("disk on fire"), "451 Requested action aborted: local error in processing.", "451 Requested action aborted: local error in processing."},
	}
	for _, tt := range tests {
		c, txt := fileErrReply(tt.err)
		if got := fmt.Sprintf("%d %s", c, txt); got != tt.file {
			t.Errorf("fileErrReply(%v) = %q, want %q", tt.err, got, tt.file)
		}
		c, txt = uploadErrReply(tt.err)
		if got := fmt.Sprintf("%d %s", c, txt); got != tt.upload {
			t.Errorf("uploadErrReply(%v) = %q, want %q", tt.err, got, tt.upload)
		}
	}
}
