// Tests of the storage settings: their defaults and values from the config file.
package main

import (
	"bytes"
	"testing"
)

func TestStorageSettings(t *testing.T) {
	for _, tt := range []struct {
		body           string
		durable, clean bool
	}{
		{"", true, true},
		{"durable_uploads = true\nclean_stale_uploads = true\n", true, true},
		{"durable_uploads = false\n", false, true},
		{"clean_stale_uploads = false\n", true, false},
	} {
		args := []string{}
		if tt.body != "" {
			args = []string{"-config", writeFile(t, "c.toml", tt.body)}
		}
		s, err := parseArgs(args, &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		_, _, d, err := s.configs()
		if err != nil {
			t.Fatalf("%q: %v", tt.body, err)
		}
		if d.DurableUploads != tt.durable {
			t.Errorf("%q: durable %v, want %v", tt.body, d.DurableUploads, tt.durable)
		}
		if d.CleanStaleUploads != tt.clean {
			t.Errorf("%q: clean-up %v, want %v", tt.body, d.CleanStaleUploads, tt.clean)
		}
	}
}
