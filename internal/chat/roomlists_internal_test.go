package chat

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/names"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store/memory"
	"github.com/parley-chat/parley/internal/test/wait"
)

func TestJSONStringLen(t *testing.T) {
	for _, s := range []string{
		"", "general", "日本語", "a b-c_d.e", `quote " and \ backslash`, "tab\tnew\nline\r",
		"\x00\x01\x1f\x7f", "<script>&amp;", "\u2028\u2029", "bad \xff\xfe utf-8 \xc3", "👋🏽",
	} {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := jsonStringLen(s); got != len(want) {
			t.Errorf("jsonStringLen(%q) = %d, want %d (%s)", s, got, len(want), want)
		}
	}
}

// FuzzJSONStringLen checks jsonStringLen against encoding/json, which
// encodes the lists it bounds.
func FuzzJSONStringLen(f *testing.F) {
	for _, s := range []string{"", "general", "\u2028", "\xff", "<&>", "\"\\", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := jsonStringLen(s); got != len(want) {
			t.Errorf("jsonStringLen(%q) = %d, want %d", s, got, len(want))
		}
	})
}

// pageAll pages through x by limit, checking each page's bounds.
func pageAll(t *testing.T, x *nameIndex, limit int) []string {
	t.Helper()
	var all []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 100000 {
			t.Fatal("paging does not end")
		}
		names, more := x.pageSnapshot(after, limit).page(after, limit)
		if len(names) > limit {
			t.Fatalf("a page of %d names, want at most %d", len(names), limit)
		}
		if b, _ := json.Marshal(names); len(b) > MaxListBytes && len(names) > 1 {
			t.Fatalf("a page of %d bytes, want at most %d", len(b), MaxListBytes)
		}
		all = append(all, names...)
		if !more {
			return all
		}
		if len(names) == 0 {
			t.Fatal("an empty page with more after it")
		}
		after = names[len(names)-1]
	}
}

func TestNamesPage(t *testing.T) {
	var x nameIndex
	names := []string{}
	for i := range 1000 {
		names = append(names, fmt.Sprintf("u%04d", i*7%1000))
	}
	for _, n := range names {
		x.add(n)
	}
	slices.Sort(names)
	for _, tc := range []struct {
		name  string
		after string
		limit int
		want  []string
		more  bool
	}{
		{"first", "", 3, []string{"u0000", "u0001", "u0002"}, true},
		{"after one", "u0002", 2, []string{"u0003", "u0004"}, true},
		{"after a name that is none", "u0002a", 2, []string{"u0003", "u0004"}, true},
		{"before all", "a", 1, []string{"u0000"}, true},
		{"the last", "u0998", 5, []string{"u0999"}, false},
		{"exactly the last", "u0997", 2, []string{"u0998", "u0999"}, false},
		{"after all", "u0999", 5, []string{}, false},
		{"past all", "z", 5, []string{}, false},
		{"all", "", 1000, names, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, more := x.pageSnapshot(tc.after, tc.limit).page(tc.after, tc.limit)
			if !slices.Equal(got, tc.want) || more != tc.more {
				t.Errorf("page(%q, %d) = %q, %t; want %q, %t", tc.after, tc.limit, got, more, tc.want, tc.more)
			}
		})
	}
	// The part of the names a page needs gives the page the whole would,
	// wherever it starts and whatever its length.
	for i := 0; i < len(names); i += 37 {
		for _, limit := range []int{1, 63, 64, 200, 256, 1000} {
			for _, after := range []string{names[i], names[i] + "a"} {
				got, more := x.pageSnapshot(after, limit).page(after, limit)
				want, wantMore := x.snapshot().page(after, limit)
				if !slices.Equal(got, want) || more != wantMore {
					t.Fatalf("page(%q, %d) of its part: %d names, more %t; of the whole: %d, %t", after, limit, len(got), more, len(want), wantMore)
				}
			}
		}
	}
	for _, limit := range []int{1, 7, 255, 256, 257, 999, 1000, 5000} {
		if got := pageAll(t, &x, limit); !slices.Equal(got, names) {
			t.Errorf("paging by %d: %d names, want %d", limit, len(got), len(names))
		}
	}
	var empty nameIndex
	if got, more := empty.pageSnapshot("", 10).page("", 10); len(got) != 0 || got == nil || more {
		t.Errorf("page of no names: %q (nil %t), %t", got, got == nil, more)
	}
}

// TestNamesPageBytes checks that a page of long names stays within
// MaxListBytes, and that one name longer than that alone still makes
// progress.
func TestNamesPageBytes(t *testing.T) {
	var x nameIndex
	var names []string
	for i := range 300 {
		n := fmt.Sprintf("%03d %s", i, strings.Repeat("\u2028", 100)) // 606 bytes as JSON
		names = append(names, n)
		x.add(n)
	}
	huge := "zzz" + strings.Repeat("<", MaxListBytes)
	names = append(names, huge)
	x.add(huge)
	first, more := x.pageSnapshot("", MaxUsersPage).page("", MaxUsersPage)
	if !more || len(first) == 0 || len(first) >= 300 {
		t.Fatalf("first page: %d names, more %t; want fewer than 300 and more", len(first), more)
	}
	if got := pageAll(t, &x, MaxUsersPage); !slices.Equal(got, names) {
		t.Errorf("paging: %d names, want %d", len(got), len(names))
	}
}

// BenchmarkUsersPage measures a page of a room's members for join-room's
// and new-user's answers and list-users (as the page asks for them, up
// to MaxUsersPage): the snapshot taken under Chat.mu ("locked"), and the
// page made from it outside the lock (whole: both), while members come
// and go, which copies the chunks a snapshot shares.
func BenchmarkUsersPage(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		r := &room{members: make(map[*person]struct{})}
		for i := range n {
			r.addMember(&person{name: fmt.Sprintf("member%06d", i)})
		}
		churn := &person{name: "member-churn"}
		for _, limit := range []int{DefaultUsersPage, MaxUsersPage} {
			for _, at := range []string{"first", "middle"} {
				after := ""
				if at == "middle" {
					after = fmt.Sprintf("member%06d", n/2)
				}
				b.Run(fmt.Sprintf("members=%d/limit=%d/%s/locked", n, limit, at), func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						_ = r.names.pageSnapshot(after, limit)
						r.addMember(churn)
						r.dropMember(churn)
					}
				})
				b.Run(fmt.Sprintf("members=%d/limit=%d/%s/whole", n, limit, at), func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						_ = r.names.pageSnapshot(after, limit).usersPage(after, limit)
						r.addMember(churn)
						r.dropMember(churn)
					}
				})
			}
		}
	}
}

// TestMembersAnswerIsAPage checks that new-user's and join-room's answers
// hold the first page of a big room's members, and that list-users pages
// through the rest.
func TestMembersAnswerIsAPage(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st := memory.New(memory.Config{})
	t.Cleanup(func() { _ = st.Close() })
	sio := socketio.NewServer(socketio.Config{Logger: log})
	c, err := New(Config{Store: st, Logger: log, Rate: 1e9, Burst: 1e9}, sio.Of("/"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	ts := httptest.NewServer(sio)
	t.Cleanup(ts.Close)

	const n = 1000
	var want []string
	for _, name := range []string{DefaultRoom, "big"} {
		r, err := c.loadRoom(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.mu.Lock()
		for i := range n {
			p := &person{name: fmt.Sprintf("member%04d %s", i, name), rooms: map[string]*room{name: r}}
			p.id, p.key = "id:"+p.name, names.Key(p.name)
			c.people[p.id] = p
			r.addMember(p)
			if name == "big" {
				want = append(want, p.name)
			}
		}
		c.mu.Unlock()
	}
	want = append(want, "zed")

	ctx := wait.Context(t, 20*time.Second)
	cl, err := sioclient.Dial(ctx, ts.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	so := cl.Socket("/")
	if err := so.Connect(ctx, nil); err != nil {
		t.Fatal(err)
	}
	ask := func(event string, args ...any) (r struct {
		OK    bool     `json:"ok"`
		Users []string `json:"users"`
		Next  string   `json:"next"`
	}) {
		t.Helper()
		m, err := so.EmitWithAck(ctx, event, args...)
		if err == nil {
			err = m.Bind(0, &r)
		}
		if err != nil || !r.OK {
			t.Fatalf("%s %v: %+v, %v", event, args, r, err)
		}
		return r
	}
	for _, tc := range []struct {
		event string
		arg   any
	}{
		{EventNewUser, "zed"},
		{EventJoinRoom, "big"},
	} {
		r := ask(tc.event, tc.arg)
		if len(r.Users) != DefaultUsersPage || r.Next != r.Users[len(r.Users)-1] {
			t.Errorf("%s: %d users, next %q; want %d and the last of them", tc.event, len(r.Users), r.Next, DefaultUsersPage)
		}
	}
	got := []string{}
	req := map[string]any{"room": "big", "limit": MaxUsersPage}
	for {
		r := ask(EventListUsers, req)
		got = append(got, r.Users...)
		if r.Next == "" {
			break
		}
		req["after"] = r.Next
	}
	if !slices.Equal(got, want) {
		t.Errorf("list-users paged: %d names, want %d", len(got), len(want))
	}
}
