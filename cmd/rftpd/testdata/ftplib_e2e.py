"""Drive rftpd with Python's ftplib for the end-to-end tests (e2e_ftplib_test.go).

usage: ftplib_e2e.py HOST PORT MODE WORKDIR
MODE is pasv, epsv or port (the data connection: PASV, EPSV or PORT).
Reads as "reader" (password in $READER_PASS) from the fixture tree into
WORKDIR/down, writes as "writer" ($WRITER_PASS) from WORKDIR/up, and prints
what it saw as one JSON object on stdout. Any exception exits non-zero.
"""
import ftplib
import json
import os
import sys

host, port, mode, work = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
sent = []  # every command line sent, for the Go side to check the mode


class Client(ftplib.FTP):
    def putcmd(self, line):
        sent.append(line.split(" ", 1)[0].upper())
        super().putcmd(line)

    def makepasv(self):
        if mode == "epsv":
            # ftplib uses EPSV only for IPv6: force it for IPv4 too
            return ftplib.parse229(self.sendcmd("EPSV"), self.sock.getpeername())
        return super().makepasv()


def connect(user, password):
    f = Client(timeout=30)
    welcome = f.connect(host, port)
    f.login(user, password)
    f.set_pasv(mode != "port")
    return f, welcome


out = {}

# --- reading, as reader -----------------------------------------------------
f, out["welcome"] = connect("reader", os.environ["READER_PASS"])
out["pwd"] = f.pwd()
out["feat"] = f.sendcmd("FEAT").splitlines()
out["mlsd_root"] = {name: facts for name, facts in f.mlsd("/")}
out["mlsd_sub"] = {name: facts for name, facts in f.mlsd("/sub", facts=["type", "size"])}
out["nlst_sub"] = sorted(f.nlst("/sub"))
lines = []
f.retrlines("LIST /sub", lines.append)
out["list_sub"] = lines
f.voidcmd("TYPE I")
out["size"] = {}
out["mdtm"] = {}
down = os.path.join(work, "down")
os.makedirs(down, exist_ok=True)
for name in sys.stdin.read().split("\n"):
    if not name:
        continue
    out["size"][name] = f.size(name)
    out["mdtm"][name] = f.sendcmd("MDTM " + name)
    with open(os.path.join(down, name.replace("/", "__")), "wb") as fp:
        f.retrbinary("RETR " + name, fp.write, blocksize=65536)
# REST: retrbinary with a rest offset
with open(os.path.join(down, "medium-rest"), "wb") as fp:
    f.retrbinary("RETR medium-1MiB+3.bin", fp.write, rest=777777)
# text mode: retrlines strips the CRLF the server sends in TYPE A
text = []
f.retrlines("RETR notes.txt", text.append)
out["notes_lines"] = len(text)
out["notes_first"] = text[0]
f.cwd("sub/inner")
out["pwd_inner"] = f.pwd()
try:
    f.sendcmd("SIZE nonexistent")
except ftplib.error_perm as e:
    out["size_missing"] = str(e)
try:
    f.storbinary("STOR nope", open(os.devnull, "rb"))
except ftplib.error_perm as e:
    out["reader_stor"] = str(e)
out["quit"] = f.quit()

# --- writing, as writer -----------------------------------------------------
f, _ = connect("writer", os.environ["WRITER_PASS"])
up = os.path.join(work, "up")
out["mkd"] = f.mkd("dir")
f.mkd("dir/nested")
f.cwd("dir")
for name in sorted(os.listdir(up)):
    with open(os.path.join(up, name), "rb") as fp:
        f.storbinary("STOR " + name, fp, blocksize=65536)
with open(os.path.join(up, "text.txt"), "rb") as fp:
    f.storlines("STOR lines.txt", fp)  # TYPE A: the server stores LF line ends
with open(os.path.join(up, "text.txt"), "rb") as fp:
    f.storbinary("APPE appended.txt", fp)
with open(os.path.join(up, "text.txt"), "rb") as fp:
    f.storbinary("APPE appended.txt", fp)
out["rename"] = f.rename("blob.bin", "nested/moved.bin")
out["delete"] = f.delete("small.bin")
f.mkd("gone")
out["rmd"] = f.rmd("gone")
try:
    f.rmd("nested")
except ftplib.error_perm as e:
    out["rmd_nonempty"] = str(e)
out["writer_mlsd"] = {name: facts.get("type") + ":" + facts.get("size", "-")
                      for name, facts in f.mlsd("", facts=["type", "size"])}
f.voidcmd("TYPE I")
out["writer_size"] = f.size("nested/moved.bin")
out["quit_writer"] = f.quit()
out["sent"] = sent
json.dump(out, sys.stdout)
