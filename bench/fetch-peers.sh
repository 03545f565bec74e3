#!/bin/sh
# Fetches vsftpd, pure-ftpd and ProFTPD from Debian's packages into DIR/NAME
# (apt-get download + dpkg -x: they conflict as "ftp-server" packages, so none
# is installed), installs their shared libraries, and creates the two system
# accounts the peers authenticate: "ftp" (anonymous, home = the data set) and
# "ftpbench" (the writable account, home = the peers' upload folder).
#
#   bench/fetch-peers.sh PEERS_DIR DATA_DIR UPLOAD_DIR
set -eu
peers=${1:?usage: fetch-peers.sh PEERS_DIR DATA_DIR UPLOAD_DIR}
data=${2:?usage: fetch-peers.sh PEERS_DIR DATA_DIR UPLOAD_DIR}
upload=${3:?usage: fetch-peers.sh PEERS_DIR DATA_DIR UPLOAD_DIR}
libs="libwrap0 libsodium23 libhiredis0.14 libmemcached11 libmemcachedutil2 libpcre2-posix3 libcap2 libacl1 libidn2-0 libssl3"

mkdir -p "$peers" "$upload"
cd "$peers"
for p in vsftpd pure-ftpd proftpd-core; do
	if [ -x "$p/usr/sbin/${p%-core}" ] && [ -s "$p.version" ]; then
		continue
	fi
	rm -rf "$p" "$p.version" "${p}"_*.deb
	if ! apt-get download "$p" 2>/dev/null; then
		apt-get update -q
		apt-get download "$p"
	fi
	dpkg -x "${p}"_*.deb "$p"
	dpkg-deb -f "${p}"_*.deb Version > "$p.version"
	rm -f "${p}"_*.deb
done

missing=""
for l in $libs; do
	dpkg -s "$l" >/dev/null 2>&1 || missing="$missing $l"
done
if [ -n "$missing" ]; then
	apt-get install -y -q --no-install-recommends $missing || { apt-get update -q && apt-get install -y -q --no-install-recommends $missing; }
fi

# Accounts. "ftp": anonymous logins (pure-ftpd serves ~ftp); "ftpbench": uploads.
getent group nogroup >/dev/null || groupadd nogroup
if getent passwd ftp >/dev/null; then
	usermod -d "$data" ftp
else
	useradd -r -d "$data" -s /usr/sbin/nologin -g nogroup ftp
fi
if getent passwd ftpbench >/dev/null; then
	usermod -d "$upload" ftpbench
else
	useradd -M -d "$upload" -s /bin/sh ftpbench
fi
echo 'ftpbench:bench-pass' | chpasswd
chown ftpbench "$upload"
echo "fetch-peers: vsftpd $(cat vsftpd.version), pure-ftpd $(cat pure-ftpd.version), proftpd $(cat proftpd-core.version) in $peers"
