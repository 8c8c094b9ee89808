package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"testing"
)

func TestCPUModel(t *testing.T) {
	for _, tc := range []struct {
		name   string
		text   string
		want   string
		wantOK bool
	}{
		{
			"x86, the first of several",
			"processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel\t\t: 1\nmodel name\t: AMD EPYC 7B13\n\nprocessor\t: 1\nmodel name\t: another\n",
			"AMD EPYC 7B13", true,
		},
		{"a colon in the name", "model name\t: Foo: Bar CPU\n", "Foo: Bar CPU", true},
		{"not model", "model\t\t: 1\n", "", false},
		{"arm, none", "processor\t: 0\nBogoMIPS\t: 50.00\nCPU part\t: 0xd0c\n", "", false},
		{"empty name, then one", "model name\t:\nmodel name\t: X\n", "X", true},
		{"empty", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := cpuModel([]byte(tc.text))
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("cpuModel(%q) = %q, %v; want %q, %v", tc.text, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestMemTotalKiB(t *testing.T) {
	for _, tc := range []struct {
		name   string
		text   string
		want   int64
		wantOK bool
	}{
		{"linux", "MemTotal:       24683664 kB\nMemFree:        21893904 kB\n", 24683664, true},
		{"not first", "MemFree: 1 kB\nMemTotal: 2048 kB\n", 2048, true},
		{"the last line, no newline", "MemTotal: 2048 kB", 2048, true},
		{"no value", "MemTotal:\n", 0, false},
		{"no value, at the end", "MemTotal:", 0, false},
		{"no unit", "MemTotal: 2048\n", 0, false},
		{"another unit", "MemTotal: 2 MB\n", 0, false},
		{"not a number", "MemTotal: lots kB\n", 0, false},
		{"zero", "MemTotal: 0 kB\n", 0, false},
		{"no MemTotal", "MemFree: 1 kB\n", 0, false},
		{"a key that ends the same", "HugeMemTotal: 5 kB\n", 0, false},
		{"empty", "", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := memTotalKiB([]byte(tc.text))
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("memTotalKiB(%q) = %d, %v; want %d, %v", tc.text, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

// FuzzProcText checks that no text of /proc makes its parsers panic, and
// that what they find is in the text.
func FuzzProcText(f *testing.F) {
	for _, s := range []string{
		sockstat,
		"TCP: mem",
		"TCP: inuse 1 mem -1\n",
		"MemTotal:       24683664 kB\n",
		"MemTotal:",
		"model name\t: AMD EPYC\n",
		"model name:",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		if pages, ok := sockstatTCPMem(text); ok {
			if pages < 0 || !bytes.Contains(text, []byte(strconv.FormatInt(pages, 10))) {
				t.Errorf("sockstatTCPMem(%q) = %d, not in the text", text, pages)
			}
		} else if pages != 0 {
			t.Errorf("sockstatTCPMem(%q) = %d, false", text, pages)
		}
		if kib, ok := memTotalKiB(text); ok {
			if kib <= 0 || !bytes.Contains(text, []byte(strconv.FormatInt(kib, 10))) {
				t.Errorf("memTotalKiB(%q) = %d, not in the text", text, kib)
			}
		}
		if m, ok := cpuModel(text); ok && (m == "" || !bytes.Contains(text, []byte(m))) {
			t.Errorf("cpuModel(%q) = %q, not in the text", text, m)
		}
	})
}

func TestDescribeRevision(t *testing.T) {
	const rev = "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct {
		name     string
		settings []debug.BuildSetting
		want     string
	}{
		{"none", nil, "unknown revision"},
		{"no revision", []debug.BuildSetting{{Key: "vcs.modified", Value: "true"}}, "unknown revision"},
		{"revision only", []debug.BuildSetting{{Key: "vcs.revision", Value: rev}}, "commit 0123456789ab"},
		{"short revision", []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}}, "commit abc"},
		{
			"with its time, in UTC",
			[]debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.time", Value: "2026-03-01T23:30:00-02:00"}},
			"commit 0123456789ab of 2026-03-02",
		},
		{
			"modified",
			[]debug.BuildSetting{{Key: "vcs.time", Value: "2026-03-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}, {Key: "vcs.revision", Value: rev}},
			"commit 0123456789ab of 2026-03-01 with uncommitted changes",
		},
		{
			"not modified, unreadable time",
			[]debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "false"}, {Key: "vcs.time", Value: "yesterday"}},
			"commit 0123456789ab",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := describeRevision(tc.settings); got != tc.want {
				t.Errorf("describeRevision(%v) = %q, want %q", tc.settings, got, tc.want)
			}
		})
	}
}

func TestPackageVersion(t *testing.T) {
	for _, tc := range []struct {
		name string
		json string // "" for no file
		want string
	}{
		{"socket.io", `{"name":"socket.io","version":"4.8.4","main":"./dist/index.js"}`, "4.8.4"},
		{"no version", `{"name":"socket.io"}`, "(unknown version)"},
		{"not JSON", `version 4.8.4`, "(unknown version)"},
		{"no file", "", "(unknown version)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "package.json")
			if tc.json != "" {
				if err := os.WriteFile(path, []byte(tc.json), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got := packageVersion(path); got != tc.want {
				t.Errorf("packageVersion of %q = %q, want %q", tc.json, got, tc.want)
			}
		})
	}
}
