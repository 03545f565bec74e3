// Dropping root: run_as names the account rftpd serves as once its listeners are bound.
package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"strconv"
	"strings"
)

// runAs is who rftpd runs as after the drop.
type runAs struct {
	user, group string // names, for messages
	uid, gid    int
}

// parseRunAs resolves run_as: "USER" or "USER:GROUP", names or numeric
// ids of entries in the system's user and group databases. Without a
// group, the user's primary group.
func parseRunAs(spec string) (runAs, error) {
	name, grp, withGroup := strings.Cut(spec, ":")
	if name == "" || (withGroup && grp == "") {
		return runAs{}, fmt.Errorf("run_as %q: want USER or USER:GROUP", spec)
	}
	u, err := user.Lookup(name)
	if err != nil {
		if _, nerr := strconv.Atoi(name); nerr == nil {
			u, err = user.LookupId(name)
		}
		if err != nil {
			return runAs{}, fmt.Errorf("run_as %q: no user %q", spec, name)
		}
	}
	a := runAs{user: u.Username}
	if a.uid, err = strconv.Atoi(u.Uid); err != nil {
		return runAs{}, fmt.Errorf("run_as %q: user %q has the id %q, not a number", spec, name, u.Uid)
	}
	gid := u.Gid
	if withGroup {
		g, err := user.LookupGroup(grp)
		if err != nil {
			if _, nerr := strconv.Atoi(grp); nerr == nil {
				g, err = user.LookupGroupId(grp)
			}
			if err != nil {
				return runAs{}, fmt.Errorf("run_as %q: no group %q", spec, grp)
			}
		}
		a.group, gid = g.Name, g.Gid
	} else if g, err := user.LookupGroupId(gid); err == nil {
		a.group = g.Name
	} else {
		a.group = gid // a primary group without an entry of its own
	}
	if a.gid, err = strconv.Atoi(gid); err != nil {
		return runAs{}, fmt.Errorf("run_as %q: group %q has the id %q, not a number", spec, a.group, gid)
	}
	return a, nil
}

// privilegeDrop decides what run_as (spec) means for the process as it was
// started, and returns what to do once the listeners are bound
// (reactor.Config.Bound; nil: nothing). Started as root, that is dropping
// root for good, or without run_as logging a warning. Not started as
// root, run_as may only name the user it runs as already (nothing to
// drop); anyone else is an error, as is run_as naming root.
func privilegeDrop(spec string, logger *slog.Logger) (func() error, error) {
	euid := os.Geteuid()
	if spec == "" {
		if euid != 0 {
			return nil, nil
		}
		// Once bound, so that a start-up mistake stays one line.
		return func() error {
			logger.Warn("running as root: every session's files are opened and created as root; set run_as (or -run-as USER[:GROUP]) to drop to an unprivileged user once listening, or start rftpd as that user with CAP_NET_BIND_SERVICE")
			return nil
		}, nil
	}
	a, err := parseRunAs(spec)
	if err != nil {
		return nil, err
	}
	if euid != 0 {
		_, _, withGroup := strings.Cut(spec, ":")
		if a.uid == euid && a.uid == os.Getuid() && (!withGroup || a.gid == os.Getegid() && a.gid == os.Getgid()) {
			logger.Info("run_as names the user rftpd runs as: nothing to drop", "user", a.user, "uid", a.uid, "gid", os.Getegid())
			return nil, nil
		}
		return nil, fmt.Errorf("run_as %q: rftpd runs as uid %d, gid %d, not as root, and cannot become uid %d, gid %d (start it as root to drop to them, or as that user)",
			spec, euid, os.Getegid(), a.uid, a.gid)
	}
	if a.uid == 0 {
		return nil, fmt.Errorf("run_as %q: that is root; name an unprivileged user", spec)
	}
	if !canDrop {
		return nil, errors.New("run_as: dropping root is implemented for Linux only; start rftpd as the user it should run as")
	}
	return func() error {
		if err := dropPrivileges(a); err != nil {
			return err
		}
		logger.Info("dropped root privileges", "user", a.user, "uid", a.uid, "group", a.group, "gid", a.gid)
		return nil
	}, nil
}
