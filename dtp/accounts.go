// Accounts: the TOML accounts file, password checks and logins.
package dtp

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
	"golang.org/x/crypto/bcrypt"

	"github.com/rftpd/rftpd/protocol"
)

// An accounts file holds one [[user]] table per account:
//
//	[[user]]
//	name        = "alice"
//	password    = "$2a$10$..."            # bcrypt, from `rftpd passwd`
//	root        = "/srv/ftp/alice"        # relative paths start at the file's directory
//	permissions = ["read", "write"]       # read, write, delete, rename, mkdir; default ["read"]
//
// The names "anonymous" and "ftp" (in any case) are reserved for anonymous
// login (SetAnonymous) and refused in the file, so a password can never
// stand in for the anonymous account or the other way round.

type account struct {
	hash  []byte
	root  *os.Root
	perms protocol.Perm
}

// userEntry is one [[user]] table as written in the file.
type userEntry struct {
	Name        string    `toml:"name"`
	Password    string    `toml:"password"`
	Root        string    `toml:"root"`
	Permissions *[]string `toml:"permissions"`
}

type accountsFile struct {
	User []userEntry `toml:"user"`
}

// dummyHash is compared against when the user is unknown, so an unknown
// name costs the same bcrypt work as a wrong password.
type dummyHash struct {
	once sync.Once
	hash []byte
}

func newAccounts() *Accounts {
	return &Accounts{users: make(map[string]*account)}
}

// isAnonymousName reports whether user names the anonymous account.
func isAnonymousName(user string) bool {
	return strings.EqualFold(user, "anonymous") || strings.EqualFold(user, "ftp")
}

func loadAccounts(path string) (_ *Accounts, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dtp: accounts: %w", err)
	}
	var f accountsFile
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		return nil, fmt.Errorf("dtp: accounts %s: %w", path, err)
	}
	lines := userLines(data, len(f.User))
	where := func(i int) string {
		s := fmt.Sprintf("user %d", i+1)
		if i >= 0 && i < len(f.User) && f.User[i].Name != "" {
			s += fmt.Sprintf(" %q", f.User[i].Name)
		}
		if lines != nil && i >= 0 {
			s += fmt.Sprintf(" (line %d)", lines[i])
		}
		return s
	}
	fail := func(i int, format string, args ...any) error {
		return fmt.Errorf("dtp: accounts %s: %s: %s", path, where(i), fmt.Sprintf(format, args...))
	}

	// Unknown keys: walk the keys in file order, counting [[user]] headers
	// to tell which table an undecoded key sits in.
	undecoded := make(map[string]bool)
	for _, k := range md.Undecoded() {
		undecoded[k.String()] = true
	}
	idx := -1
	for _, k := range md.Keys() {
		if len(k) == 1 && k[0] == "user" {
			idx++
			continue
		}
		if !undecoded[k.String()] {
			continue
		}
		if k[0] == "user" {
			return nil, fail(idx, "unknown key %q", strings.Join(k[1:], "."))
		}
		return nil, fmt.Errorf("dtp: accounts %s: unknown key %q", path, k.String())
	}

	a := newAccounts()
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	opened := make(map[string]*os.Root)
	base := filepath.Dir(path)
	for i, u := range f.User {
		switch {
		case u.Name == "":
			return nil, fail(i, "name is missing")
		case isAnonymousName(u.Name):
			return nil, fail(i, "name is reserved for anonymous login")
		case a.users[u.Name] != nil:
			return nil, fail(i, "name appears twice")
		case u.Password == "":
			return nil, fail(i, "password is missing (a bcrypt hash, see rftpd passwd)")
		case u.Root == "":
			return nil, fail(i, "root is missing")
		}
		cost, err := bcrypt.Cost([]byte(u.Password))
		if err != nil {
			return nil, fail(i, "password is not a bcrypt hash: %v", err)
		}
		a.cost = max(a.cost, cost)
		perms := protocol.PermRead
		if u.Permissions != nil {
			perms = 0
			for _, name := range *u.Permissions {
				p, ok := protocol.ParsePerm(name)
				if !ok {
					return nil, fail(i, "unknown permission %q (known: read, write, delete, rename, mkdir)", name)
				}
				perms |= p
			}
		}
		dir := u.Root
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(base, dir)
		}
		dir = filepath.Clean(dir)
		root := opened[dir]
		if root == nil {
			root, err = os.OpenRoot(dir)
			if err != nil {
				return nil, fail(i, "root: %v", err)
			}
			opened[dir] = root
			a.roots = append(a.roots, root)
		}
		a.users[u.Name] = &account{hash: []byte(u.Password), root: root, perms: perms}
	}
	a.dummyHash() // pay for it now, not on the first unknown user
	return a, nil
}

// userLines finds the line of each [[user]] header, for error messages.
// It returns nil when the count does not match the tables decoded (users
// written as an inline array, or a header inside a multi-line string).
func userLines(data []byte, n int) []int {
	var lines []int
	for i, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if !strings.HasPrefix(t, "[[") {
			continue
		}
		end := strings.Index(t, "]]")
		if end < 0 {
			continue
		}
		if strings.Trim(strings.TrimSpace(t[2:end]), `"'`) == "user" {
			lines = append(lines, i+1)
		}
	}
	if len(lines) != n {
		return nil
	}
	return lines
}

func (a *Accounts) setAnonymous(dir string) error {
	if dir == "" {
		return errors.New("dtp: anonymous root is empty")
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("dtp: anonymous root: %w", err)
	}
	a.mu.Lock()
	old := a.anon
	a.anon = root
	a.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}

func (a *Accounts) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range a.roots {
		r.Close()
	}
	a.roots = nil
	if a.anon != nil {
		a.anon.Close()
		a.anon = nil
	}
}

// anonymous returns the anonymous identity when user names it and
// anonymous login is enabled; nil otherwise.
func (a *Accounts) anonymous(user string) *identity {
	if !isAnonymousName(user) {
		return nil
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.anon == nil {
		return nil
	}
	return &identity{root: a.anon, perms: protocol.PermRead, anon: true}
}

// verify checks a password with bcrypt (slow on purpose: auth workers
// only). Unknown users cost one bcrypt compare too. nil: refused.
func (a *Accounts) verify(user, pass string) *identity {
	a.mu.RLock()
	u := a.users[user]
	a.mu.RUnlock()
	if u == nil {
		bcrypt.CompareHashAndPassword(a.dummyHash(), []byte(pass))
		return nil
	}
	if bcrypt.CompareHashAndPassword(u.hash, []byte(pass)) != nil {
		return nil
	}
	return &identity{root: u.root, perms: u.perms}
}

// dummyHash returns the hash unknown users are checked against, made once
// at the highest cost of the file's hashes.
func (a *Accounts) dummyHash() []byte {
	a.dummy.once.Do(func() {
		cost := a.cost
		if cost == 0 {
			cost = bcrypt.DefaultCost
		}
		h, err := bcrypt.GenerateFromPassword([]byte("no such user"), cost)
		if err != nil {
			panic("dtp: dummy bcrypt hash: " + err.Error()) // cost came from a valid hash
		}
		a.dummy.hash = h
	})
	return a.dummy.hash
}

// HashPassword returns the bcrypt hash (default cost) of pw, the form the
// accounts file's password field takes.
func HashPassword(pw []byte) (string, error) {
	h, err := bcrypt.GenerateFromPassword(pw, bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("dtp: hash password: %w", err)
	}
	return string(h), nil
}

// login runs ReqLogin: anonymous logins inline (no secret to check),
// others on the auth pool.
func (s *Server) login(sess *Session, r protocol.ReqLogin, post func(protocol.Event)) {
	if id := s.acc.anonymous(r.User); id != nil {
		sess.setIdentity(id)
		post(protocol.EvLogin{OK: true, Anonymous: true, Perms: id.perms})
		return
	}
	ok := s.auth.submit(func() {
		id := s.acc.verify(r.User, r.Pass)
		sess.setIdentity(id)
		if id == nil {
			post(protocol.EvLogin{})
			return
		}
		post(protocol.EvLogin{OK: true, Perms: id.perms})
	})
	if !ok {
		post(protocol.EvLogin{Err: protocol.ErrBusy})
	}
}
