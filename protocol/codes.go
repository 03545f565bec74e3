// Reply codes of RFC 959 §4.2 and its extensions, named by meaning.
package protocol

// replyCode is a three-digit FTP reply code.
type replyCode uint16

// Reply codes the server sends. The comment gives the RFC's own wording.
const (
	codeOpeningData     replyCode = 150 // File status okay; about to open data connection.
	codeOK              replyCode = 200 // Command okay.
	codeSuperfluous     replyCode = 202 // Command not implemented, superfluous at this site.
	codeSystemStatus    replyCode = 211 // System status, or system help reply (also FEAT).
	codeFileStatus      replyCode = 213 // File status (SIZE, MDTM, MFMT, STAT path).
	codeHelp            replyCode = 214 // Help message.
	codeSystemType      replyCode = 215 // NAME system type.
	codeServiceReady    replyCode = 220 // Service ready for new user.
	codeClosingControl  replyCode = 221 // Service closing control connection.
	codeNoTransfer      replyCode = 225 // Data connection open; no transfer in progress.
	codeClosingData     replyCode = 226 // Closing data connection; requested action successful.
	codePassive         replyCode = 227 // Entering Passive Mode (h1,h2,h3,h4,p1,p2).
	codeExtPassive      replyCode = 229 // Entering Extended Passive Mode (|||port|). RFC 2428
	codeLoggedIn        replyCode = 230 // User logged in, proceed.
	codeAuthOK          replyCode = 234 // Security data exchange complete (AUTH accepted; start TLS). RFC 4217
	codeFileActionOK    replyCode = 250 // Requested file action okay, completed.
	codePathCreated     replyCode = 257 // "PATHNAME" created.
	codeNeedPassword    replyCode = 331 // User name okay, need password.
	codePendingInfo     replyCode = 350 // Requested file action pending further information.
	codeNotAvailable    replyCode = 421 // Service not available, closing control connection.
	codeCantOpenData    replyCode = 425 // Can't open data connection.
	codeTransferAborted replyCode = 426 // Connection closed; transfer aborted.
	codeFileBusy        replyCode = 450 // Requested file action not taken. File unavailable (e.g., busy).
	codeLocalError      replyCode = 451 // Requested action aborted: local error in processing.
	codeNoSpace         replyCode = 452 // Requested action not taken. Insufficient storage space.
	codeSyntaxError     replyCode = 500 // Syntax error, command unrecognized.
	codeArgSyntaxError  replyCode = 501 // Syntax error in parameters or arguments.
	codeNotImplemented  replyCode = 502 // Command not implemented.
	codeBadSequence     replyCode = 503 // Bad sequence of commands.
	codeParamNotImpl    replyCode = 504 // Command not implemented for that parameter.
	codeDataProtection  replyCode = 521 // Data connection cannot be opened with this PROT setting. RFC 4217
	codeNetProtoUnknown replyCode = 522 // Network protocol not supported. RFC 2428 (RFC 4217 servers also use it for a refused data TLS session)
	codeNotLoggedIn     replyCode = 530 // Not logged in.
	codeCmdProtDenied   replyCode = 533 // Command protection level denied for policy reasons. RFC 2228
	codePolicyDenied    replyCode = 534 // Request denied for policy reasons. RFC 2228
	codeProtNotSupp     replyCode = 536 // Requested PROT level not supported by mechanism. RFC 2228
	codeFileUnavailable replyCode = 550 // Requested action not taken. File unavailable.
	codeExceededStorage replyCode = 552 // Requested file action aborted. Exceeded storage allocation.
	codeBadFileName     replyCode = 553 // Requested action not taken. File name not allowed.
	codeBadRestart      replyCode = 554 // Requested action not taken: invalid REST parameter. RFC 3659 §5.3
)
