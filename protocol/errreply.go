// Mapping of worker errors to reply codes and texts.
package protocol

import (
	"errors"
	"io/fs"
)

// Texts shared by several replies.
const (
	txtPermDenied = "Permission denied."
	txtNotFound   = "No such file or directory."
	txtBusy       = "Server busy, try again later."
	txtLocalError = "Requested action aborted: local error in processing."
	txtNoSpace    = "Insufficient storage space."
	txtQuota      = "Exceeded storage allocation."
	txtNoData     = "Can't open data connection."
	txtAborted    = "Connection closed; transfer aborted."
	txtNeedPort   = "Use PORT or PASV first."
	txtBadName    = "File name not allowed."
	txtBadRestart = "Requested action not taken: invalid REST parameter."
	txtASCIIScan  = "The file is too large for a TYPE A size or restart offset; use TYPE I."
)

// fileErrReply chooses the reply for a failed file operation: one on the
// control channel (ReqFile, ReqStatList) or a transfer that failed before
// its 150.
func fileErrReply(err error) (replyCode, string) {
	switch {
	case errors.Is(err, ErrBusy):
		return codeFileBusy, txtBusy
	case errors.Is(err, fs.ErrNotExist):
		return codeFileUnavailable, txtNotFound
	case errors.Is(err, ErrEscapes), errors.Is(err, ErrPermission), errors.Is(err, fs.ErrPermission):
		return codeFileUnavailable, txtPermDenied
	case errors.Is(err, ErrNotDir):
		return codeFileUnavailable, "Not a directory."
	case errors.Is(err, ErrIsDir):
		return codeFileUnavailable, "Is a directory."
	case errors.Is(err, ErrNotEmpty):
		return codeFileUnavailable, "Directory not empty."
	case errors.Is(err, fs.ErrExist):
		return codeFileUnavailable, "File exists."
	case errors.Is(err, ErrBadName):
		return codeFileUnavailable, txtBadName
	case errors.Is(err, ErrNoSpace):
		return codeNoSpace, txtNoSpace
	case errors.Is(err, ErrQuota):
		return codeExceededStorage, txtQuota
	case errors.Is(err, ErrBadOffset):
		return codeBadRestart, txtBadRestart
	case errors.Is(err, ErrASCIIScan):
		return codeFileUnavailable, txtASCIIScan
	}
	return codeLocalError, txtLocalError
}

// uploadErrReply chooses the reply for an upload (STOR, APPE, STOU) that
// failed before its 150: the file could not be created.
func uploadErrReply(err error) (replyCode, string) {
	switch {
	case errors.Is(err, ErrBusy), errors.Is(err, ErrEscapes), errors.Is(err, ErrPermission),
		errors.Is(err, fs.ErrPermission), errors.Is(err, ErrNoSpace), errors.Is(err, ErrQuota),
		errors.Is(err, ErrBadOffset):
		return fileErrReply(err)
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, ErrNotDir), errors.Is(err, ErrIsDir), errors.Is(err, fs.ErrExist):
		return codeBadFileName, "Could not create file."
	case errors.Is(err, ErrBadName):
		return codeBadFileName, txtBadName
	}
	return codeLocalError, txtLocalError
}

// midTransferErrReply chooses the reply for a transfer that failed after
// its 150 with a storage error. (A protected upload sends its 150 before
// the file is opened, so a bad REST offset can come this late.)
func midTransferErrReply(err error) (replyCode, string) {
	switch {
	case errors.Is(err, ErrBadOffset):
		return codeBadRestart, txtBadRestart
	case errors.Is(err, ErrNoSpace):
		return codeNoSpace, txtNoSpace
	case errors.Is(err, ErrQuota):
		return codeExceededStorage, txtQuota
	}
	return codeLocalError, txtLocalError
}

// replyFileErr sends fileErrReply's reply.
func (s *Session) replyFileErr(err error) {
	s.reply(fileErrReply(err))
}
