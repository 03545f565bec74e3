"""Drive rftpd's FTPS with Python's ftplib.FTP_TLS for the end-to-end tests (e2e_ftps_test.go).

usage: ftplib_tls.py HOST PORT CAFILE MODE WORKDIR
MODE is pasv or port. Logs in as "writer" ($WRITER_PASS) over AUTH TLS,
switches to PROT P, uploads every file of WORKDIR/up, downloads each back
into WORKDIR/down, downloads the names on stdin from the anonymous tree too
(anonymous over TLS, PROT P) into WORKDIR/anon, and prints what it saw as
one JSON object. ftplib never resumes the control connection's TLS session
on data connections, so the server must run with -tls-reuse=false; with
reuse required the first transfer fails: "error" holds what ftplib
raised and, when that came from the data connection, "reply" holds the
control connection's reply that followed.
"""
import ftplib
import json
import os
import ssl
import sys

host, port, cafile, mode, work = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ctx = ssl.create_default_context(cafile=cafile)
sent = []


class Client(ftplib.FTP_TLS):
    def putcmd(self, line):
        sent.append(line.split(" ", 1)[0].upper())
        super().putcmd(line)


def connect(user, password):
    f = Client(context=ctx, timeout=30)
    f.connect(host, port)
    f.auth()
    f.login(user, password)
    f.prot_p()
    f.set_pasv(mode != "port")
    return f


out = {"cipher": None, "uploaded": [], "error": None, "reply": None}
f = None
try:
    f = connect("writer", os.environ["WRITER_PASS"])
    out["cipher"] = f.sock.version()
    up, down = os.path.join(work, "up"), os.path.join(work, "down")
    os.makedirs(down, exist_ok=True)
    for name in sorted(os.listdir(up)):
        with open(os.path.join(up, name), "rb") as fp:
            f.storbinary("STOR " + name, fp)
        out["uploaded"].append(name)
        with open(os.path.join(down, name), "wb") as fp:
            f.retrbinary("RETR " + name, fp.write)
    lines = []
    f.retrlines("LIST", lines.append)
    out["list"] = lines
    out["quit"] = f.quit()

    a = connect("anonymous", "guest@")
    anon = os.path.join(work, "anon")
    os.makedirs(anon, exist_ok=True)
    for name in sys.stdin.read().split("\n"):
        if name:
            with open(os.path.join(anon, name.replace("/", "__")), "wb") as fp:
                a.retrbinary("RETR " + name, fp.write)
    a.quit()
except ftplib.all_errors as e:
    out["error"] = str(e)
    if f is not None and not isinstance(e, ftplib.Error):
        # The data connection failed; the transfer's reply is still to come.
        try:
            out["reply"] = f.getresp()
        except ftplib.all_errors as e2:
            out["reply"] = str(e2)
out["sent"] = sent
print(json.dumps(out))
