// Package peers starts FTP servers on loopback for ftpbench: rftpd, and for
// comparison vsftpd, pure-ftpd, ProFTPD and a raw sendfile ceiling server,
// each with equivalent settings (anonymous read-only on the data set, one
// writable account, sendfile where offered, no connection caps).
package peers
