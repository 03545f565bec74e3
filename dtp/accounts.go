// Accounts: the TOML accounts file, password checks and logins.
package dtp

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
//	tls_login   = true                    # optional: log in only over TLS (AUTH TLS or implicit FTPS)
//	tls_data    = true                    # optional: protect every data connection (PROT P)
//	tls_reuse   = false                   # optional: data connections need not resume the control session
//	download_rate = "10M"                 # optional: bytes per second for all of this user's downloads together
//	upload_rate   = 524288                # optional: the same for uploads (ParseRate: K, M, G are 1024-based)
//
// The three tls_ keys override, for this account, the listener's defaults
// (Config.TLSLoginAccounts, TLSDataAccounts, TLSReuse); an account without
// them follows the listener. The defaults only apply when the server has a
// certificate (Config.TLS), but an account's own tls_login = true or
// tls_data = true always stands: New refuses to start without TLS rather
// than let that account in unprotected.
//
// The names "anonymous" and "ftp" (in any case) are reserved for anonymous
// login (SetAnonymous) and refused in the file, so a password can never
// stand in for the anonymous account or the other way round.

type account struct {
	hash  []byte
	root  *rootDir
	perms protocol.Perm
	tls   tlsPolicy // the account's own tls_ keys
	rates [2]int64  // download_rate, upload_rate (by dirDown, dirUp); 0: no limit of its own
}

// setting is an optional boolean of the accounts file: unset, or a value
// that overrides the listener's default.
type setting uint8

const (
	settingUnset setting = iota
	settingOff
	settingOn
)

func settingOf(b *bool) setting {
	switch {
	case b == nil:
		return settingUnset
	case *b:
		return settingOn
	}
	return settingOff
}

// or returns the setting's value, def when it is unset.
func (s setting) or(def bool) bool {
	if s == settingUnset {
		return def
	}
	return s == settingOn
}

// tlsPolicy is what an account's tls_ keys say.
type tlsPolicy struct {
	login, data, reuse setting
}

// tlsRules are the effective TLS requirements of one login.
type tlsRules struct {
	login bool // the control connection must be protected
	data  bool // data connections must be protected (EvLogin.TLSData)
	reuse bool // protected data connections must resume the control session
}

// userEntry is one [[user]] table as written in the file.
type userEntry struct {
	Name        string    `toml:"name"`
	Password    string    `toml:"password"`
	Root        string    `toml:"root"`
	Permissions *[]string `toml:"permissions"`
	TLSLogin    *bool     `toml:"tls_login"`
	TLSData     *bool     `toml:"tls_data"`
	TLSReuse    *bool     `toml:"tls_reuse"`
	DownRate    Rate      `toml:"download_rate"`
	UpRate      Rate      `toml:"upload_rate"`
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
	opened := make(map[string]*rootDir)
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
			root, err = openRootDir(dir)
			if err != nil {
				return nil, fail(i, "root: %v", err)
			}
			opened[dir] = root
			a.roots = append(a.roots, root)
		}
		a.users[u.Name] = &account{hash: []byte(u.Password), root: root, perms: perms, tls: tlsPolicy{
			login: settingOf(u.TLSLogin), data: settingOf(u.TLSData), reuse: settingOf(u.TLSReuse),
		}, rates: [2]int64{int64(u.DownRate), int64(u.UpRate)}}
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
	root, err := openRootDir(dir)
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

// writableRoots returns each root some account may write to (each once):
// the trees where atomic uploads leave temporary files.
func (a *Accounts) writableRoots() []*rootDir {
	a.mu.RLock()
	defer a.mu.RUnlock()
	var roots []*rootDir
	for _, u := range a.users {
		if u.perms&protocol.PermWrite != 0 && !slices.Contains(roots, u.root) {
			roots = append(roots, u.root)
		}
	}
	return roots
}

// userRate is the bandwidth limit of user's own (download_rate for
// dirDown, upload_rate for dirUp); 0 when none or no such user.
func (a *Accounts) userRate(user string, dir int) int64 {
	if u := a.account(user); u != nil {
		return u.rates[dir]
	}
	return 0
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
	return &identity{root: a.anon.root, beneath: a.anon.beneath, perms: protocol.PermRead, anon: true, user: user, from: a}
}

// verify checks a password with bcrypt (slow on purpose: auth workers
// only). Unknown users cost one bcrypt compare too. nil: refused.
func (a *Accounts) verify(user, pass string) *identity {
	id, _ := a.verifyWhy(user, pass)
	return id
}

// verifyWhy is verify that also says why a login was refused, for the
// access log (the client is told only that it was).
func (a *Accounts) verifyWhy(user, pass string) (*identity, string) {
	u := a.account(user)
	if u == nil {
		bcrypt.CompareHashAndPassword(a.dummyHash(), []byte(pass))
		if isAnonymousName(user) {
			return nil, RefusedNoAnonymous
		}
		return nil, RefusedUnknownUser
	}
	if bcrypt.CompareHashAndPassword(u.hash, []byte(pass)) != nil {
		return nil, RefusedPassword
	}
	return &identity{root: u.root.root, beneath: u.root.beneath, perms: u.perms, user: user, from: a}, ""
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

// needsTLS names an account whose own tls_login or tls_data is true, or
// returns "".
func (a *Accounts) needsTLS() string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	var names []string
	for name, u := range a.users {
		if u.tls.login == settingOn || u.tls.data == settingOn {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	slices.Sort(names)
	return names[0]
}

// account returns the account named user, or nil.
func (a *Accounts) account(user string) *account {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.users[user]
}

// accountRules are the TLS requirements of a login as the account u: its
// own tls_ keys over the listener's defaults. Unknown names (u == nil)
// get the defaults, as an account without tls_ keys would.
func (s *Server) accountRules(u *account) tlsRules {
	var p tlsPolicy
	if u != nil {
		p = u.tls
	}
	tlsOn := s.cfg.TLS != nil
	return tlsRules{
		login: p.login.or(tlsOn && s.cfg.TLSLoginAccounts),
		data:  p.data.or(tlsOn && s.cfg.TLSDataAccounts),
		reuse: p.reuse.or(s.cfg.TLSReuse),
	}
}

// anonymousRules are the TLS requirements of an anonymous login.
func (s *Server) anonymousRules() tlsRules {
	tlsOn := s.cfg.TLS != nil
	return tlsRules{
		login: tlsOn && s.cfg.TLSLoginAnonymous,
		data:  tlsOn && s.cfg.TLSDataAnonymous,
		reuse: s.cfg.TLSReuse,
	}
}

// login runs ReqLogin: anonymous logins inline (no secret to check),
// others on the auth pool.
//
// A login that must come over TLS (its account's tls_login, else the
// listener default) but arrives on an unprotected control connection is
// refused inline with protocol.ErrTLSRequired, before and without any
// password check: no bcrypt work for a client that cannot succeed.
//
// Which names exist must not show. An unknown name is judged by the
// listener default for accounts, like an account without tls_ keys: when
// the default requires TLS, known and unknown names alike are refused
// with ErrTLSRequired by the same path (one map lookup, inline); when it
// does not, both go to the auth pool for a bcrypt compare, unknown names
// against the dummy hash. Only an account whose own tls_login differs
// from the default is told apart from unknown names, by the answer
// itself, which its setting asks for; where that matters, set the
// listener default instead of per-account keys.
func (s *Server) login(sess *Session, r protocol.ReqLogin, post func(protocol.Event)) {
	rec := LoginRecord{Client: sess.info.Remote, User: r.User, TLS: r.Secure}
	if id := s.held(func(a *Accounts) *identity { return a.anonymous(r.User) }); id != nil {
		rec.Anonymous = true
		rules := s.anonymousRules()
		if rules.login && !r.Secure {
			sess.setIdentity(nil)
			rec.Reason = RefusedTLSRequired
			s.audit(rec)
			post(protocol.EvLogin{Err: protocol.ErrTLSRequired})
			return
		}
		id.tlsData, id.tlsReuse = rules.data, rules.reuse
		sess.setIdentity(id)
		rec.OK = true
		s.audit(rec)
		post(protocol.EvLogin{OK: true, Anonymous: true, Perms: id.perms, TLSData: rules.data})
		return
	}
	rules := s.accountRules(s.accounts().account(r.User))
	if rules.login && !r.Secure {
		sess.setIdentity(nil)
		rec.Reason = RefusedTLSRequired
		s.audit(rec)
		post(protocol.EvLogin{Err: protocol.ErrTLSRequired})
		return
	}
	ok := s.auth.submit(sess.info.Remote.Addr(), func() {
		var why string
		id := s.held(func(a *Accounts) (id *identity) {
			id, why = a.verifyWhy(r.User, r.Pass)
			return id
		})
		if id != nil {
			id.tlsData, id.tlsReuse = rules.data, rules.reuse
		}
		sess.setIdentity(id)
		rec.OK, rec.Reason = id != nil, why
		s.audit(rec)
		if id == nil {
			post(protocol.EvLogin{})
			return
		}
		post(protocol.EvLogin{OK: true, Perms: id.perms, TLSData: rules.data})
	})
	if !ok {
		rec.Reason = RefusedBusy
		s.audit(rec)
		post(protocol.EvLogin{Err: protocol.ErrBusy})
	}
}
