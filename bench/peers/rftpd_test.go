// Tests of the config file StartRftpd writes.
package peers

import "testing"

func TestRftpdConfig(t *testing.T) {
	if got, want := rftpdConfig(Options{}), "[limits]\nmax_transfers = 4096\n"; got != want {
		t.Errorf("plain:\n%s\nwant:\n%s", got, want)
	}
	got := rftpdConfig(Options{DataUnsent: 65536, TLSCert: "/c.pem", TLSKey: "/k.pem"})
	want := "[limits]\nmax_transfers = 4096\ndata_unsent = 65536\n" +
		"[tls]\ncert = \"/c.pem\"\nkey = \"/k.pem\"\nlogin_accounts = false\ndata_accounts = false\n"
	if got != want {
		t.Errorf("with data_unsent and TLS:\n%s\nwant:\n%s", got, want)
	}
	// Top-level settings come before the tables.
	got = rftpdConfig(Options{InPlaceUploads: true, TLSCert: "/c.pem", TLSKey: "/k.pem"})
	want = "atomic_uploads = false\ndurable_uploads = false\n[limits]\nmax_transfers = 4096\n" +
		"[tls]\ncert = \"/c.pem\"\nkey = \"/k.pem\"\nlogin_accounts = false\ndata_accounts = false\n"
	if got != want {
		t.Errorf("in place, with TLS:\n%s\nwant:\n%s", got, want)
	}
	got = rftpdConfig(Options{InPlaceUploads: true, NoStatCache: true})
	want = "atomic_uploads = false\ndurable_uploads = false\nstat_cache = \"0s\"\n[limits]\nmax_transfers = 4096\n"
	if got != want {
		t.Errorf("in place, stat cache off:\n%s\nwant:\n%s", got, want)
	}
	if got := ControlPassivePorts(); got != "28000-29999" {
		t.Errorf("ControlPassivePorts() = %q", got)
	}
}
