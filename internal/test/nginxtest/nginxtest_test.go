package nginxtest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/test/nginxtest"
)

// TestStart runs nginx in front of three servers: each client address
// goes to one server, always the same; the addresses spread over the
// servers; a server that is gone is passed over, for the same next one
// each time; everything nginx wrote is under its prefix.
func TestStart(t *testing.T) {
	var upstreams []string
	byAddr := make(map[string]*httptest.Server)
	for i := range 3 {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "server %d, for %s", i, r.Header.Get("X-Forwarded-For"))
		}))
		t.Cleanup(ts.Close)
		a := strings.TrimPrefix(ts.URL, "http://")
		upstreams = append(upstreams, a)
		byAddr[a] = ts
	}
	ng := nginxtest.Start(t, upstreams)

	// The server that answers a client says it heard from that client.
	resp, err := nginxtest.From("127.0.0.7").Get(ng.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasSuffix(string(body), "for 127.0.0.7") {
		t.Errorf("answer %q, want one for 127.0.0.7", body)
	}

	const clients = 30
	route := make(map[string]string)
	used := make(map[string]int)
	for i := range clients {
		from := fmt.Sprintf("127.0.0.%d", i+2)
		route[from] = ng.Route(t, from, "/")
		used[route[from]]++
		if again := ng.Route(t, from, "/"); again != route[from] {
			t.Errorf("%s went to %s, then to %s", from, route[from], again)
		}
	}
	if len(used) != len(upstreams) {
		t.Fatalf("%d client addresses went to %d servers only: %v", clients, len(used), used)
	}

	// One server goes: its clients go elsewhere, each always to the same
	// one; the others' stay where they were.
	gone := upstreams[0]
	byAddr[gone].Close()
	for from, was := range route {
		now := ng.Route(t, from, "/")
		switch {
		case was != gone && now != was:
			t.Errorf("%s moved from %s to %s, which is up", from, was, now)
		case now == gone:
			t.Errorf("%s still goes to %s, which is gone", from, gone)
		case was == gone:
			if again := ng.Route(t, from, "/"); again != now {
				t.Errorf("%s went to %s, then to %s", from, now, again)
			}
		}
	}
	es, err := ng.AccessLog()
	if err != nil {
		t.Fatal(err)
	}
	failedOver := 0
	for _, e := range es {
		if len(e.Upstreams) > 1 {
			failedOver++
			if e.Upstreams[0] != gone {
				t.Errorf("tried %v: the first is not the one gone", e.Upstreams)
			}
		}
	}
	if failedOver == 0 {
		t.Error("no request was logged as passed from the server gone to another")
	}

	ng.Stop()
	want := map[string]bool{"nginx.conf": true, "error.log": true, "access.log": true, "tmp": true}
	err = filepath.WalkDir(ng.Dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || path == ng.Dir {
			return err
		}
		rel, _ := filepath.Rel(ng.Dir, path)
		if top := strings.Split(rel, string(filepath.Separator))[0]; !want[top] {
			t.Errorf("nginx wrote %s", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
