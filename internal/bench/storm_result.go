package bench

import "time"

// StormStats is what a restart storm measured (Config.Restart). Times
// are from the moment the restart began.
type StormStats struct {
	Rejoin Rejoin
	// Joined is how many clients were in the chat when the restart began;
	// Closed how many of their connections the restart closed.
	Joined int
	Closed int
	// RestartTime is how long Config.Restart took; PID is the new
	// server's process id, when known.
	RestartTime time.Duration
	PID         int
	// Back is how many came back (Rejoin says what that is), by the end
	// of the run; AllBack is when the last did, 0 unless all did (after
	// Config.StormLimit too, while the server settled or the clients were
	// held: a warning then says how many were not back at the limit);
	// BackP50... are the times they came back at.
	Back    int
	AllBack time.Duration
	BackP50 time.Duration
	BackP99 time.Duration
	BackMax time.Duration
	// Listed is how many then had the default room's whole member list
	// (new-user's answer and the pages of list-users the page asks for),
	// ListedMax when the last did.
	Listed    int
	ListedMax time.Duration
	// Attempts is the connections made after the restart began,
	// FailedAttempts those that ended before their client was back (by
	// kind in Result.Errors, "attempt to come back: ..."); Rejoins the
	// new-user sent, Retries those sent again (no answer in time, or
	// rate_limited); GaveUp the clients whose rejoin was refused, or whom
	// the server sent away, which the page would sign out; Renamed those
	// that came back under another name.
	Attempts       int
	FailedAttempts int
	Rejoins        int
	Retries        int
	GaveUp         int
	Renamed        int
	// CutOff is how many connections the server ended after their client
	// was back (by kind in Result.Errors, "cut off after coming back: ...").
	CutOff int
	// UserConnected and UserDisconnected are the events each client
	// received from the restart to the end of the hold: every client was
	// there before the restart, so each user-connected is someone's
	// return announced as news.
	UserConnected    EventCounts
	UserDisconnected EventCounts
	// MemberPages and MemberNames are the pages of list-users answered,
	// and the names the answers held, new-user's included.
	MemberPages uint64
	MemberNames uint64
	// SettleTime is how long, once all were back (or at the storm's
	// limit), the server took to go quiet; Held how long the clients then
	// stayed, for late cut-offs to show.
	SettleTime time.Duration
	Held       time.Duration
	// The new server's CPU time from its start until it went quiet, its
	// resident memory then and the most sampled until the end; OldCPU is
	// the old server's CPU time from the restart until it could no longer
	// be read (it exited).
	CPU       time.Duration
	RSSKiB    int64
	RSSMaxKiB int64
	OldCPU    time.Duration
}

// StormReport is the "storm" object of a Report.
type StormReport struct {
	Rejoin           Rejoin      `json:"rejoin"`
	Joined           int         `json:"joined"`
	Closed           int         `json:"closed"`
	RestartMS        float64     `json:"restart_ms"`
	PID              int         `json:"pid,omitempty"`
	Back             int         `json:"back"`
	AllBackMS        float64     `json:"all_back_ms"`
	BackP50MS        float64     `json:"back_p50_ms"`
	BackP99MS        float64     `json:"back_p99_ms"`
	BackMaxMS        float64     `json:"back_max_ms"`
	Listed           int         `json:"listed"`
	ListedMaxMS      float64     `json:"listed_max_ms"`
	Attempts         int         `json:"attempts"`
	FailedAttempts   int         `json:"failed_attempts"`
	Rejoins          int         `json:"rejoins"`
	Retries          int         `json:"retries"`
	GaveUp           int         `json:"gave_up"`
	Renamed          int         `json:"renamed"`
	CutOff           int         `json:"cut_off"`
	UserConnected    EventCounts `json:"user_connected"`
	UserDisconnected EventCounts `json:"user_disconnected"`
	MemberPages      uint64      `json:"member_pages"`
	MemberNames      uint64      `json:"member_names"`
	SettleMS         float64     `json:"settle_ms"`
	HeldMS           float64     `json:"held_ms"`
	CPUSeconds       float64     `json:"cpu_s"`
	RSSKiB           int64       `json:"rss_kib"`
	RSSMaxKiB        int64       `json:"rss_max_kib"`
	OldCPUSeconds    float64     `json:"old_cpu_s"`
}

// report returns the stats in their JSON form.
func (s *StormStats) report() *StormReport {
	return &StormReport{
		Rejoin: s.Rejoin, Joined: s.Joined, Closed: s.Closed,
		RestartMS: round(ms(s.RestartTime)), PID: s.PID,
		Back: s.Back, AllBackMS: round(ms(s.AllBack)),
		BackP50MS: round(ms(s.BackP50)), BackP99MS: round(ms(s.BackP99)), BackMaxMS: round(ms(s.BackMax)),
		Listed: s.Listed, ListedMaxMS: round(ms(s.ListedMax)),
		Attempts: s.Attempts, FailedAttempts: s.FailedAttempts, Rejoins: s.Rejoins, Retries: s.Retries,
		GaveUp: s.GaveUp, Renamed: s.Renamed, CutOff: s.CutOff,
		UserConnected: s.UserConnected, UserDisconnected: s.UserDisconnected,
		MemberPages: s.MemberPages, MemberNames: s.MemberNames,
		SettleMS: round(ms(s.SettleTime)), HeldMS: round(ms(s.Held)),
		CPUSeconds: round(s.CPU.Seconds()), RSSKiB: s.RSSKiB, RSSMaxKiB: s.RSSMaxKiB,
		OldCPUSeconds: round(s.OldCPU.Seconds()),
	}
}

// writeText writes the storm's lines of Result.WriteText.
func (s *StormStats) writeText(p func(string, ...any)) {
	p("restart     %d joined; the restart took %v and closed %d connections\n", s.Joined, s.RestartTime.Round(time.Millisecond), s.Closed)
	all := "not all back"
	if s.AllBack > 0 {
		all = "all back in " + fmtDuration(s.AllBack)
	}
	p("back        %d of %d (%s rejoin): %s (p50 %s, p99 %s, max %s)", s.Back, s.Joined, s.Rejoin, all,
		fmtDuration(s.BackP50), fmtDuration(s.BackP99), fmtDuration(s.BackMax))
	if s.Rejoin == RejoinPage {
		p("; %d had the whole member list by %s", s.Listed, fmtDuration(s.ListedMax))
	}
	p("\n")
	p("            %d connections tried, %d failed before their client was back; %d new-user sent, %d again; %d gave up, %d renamed\n",
		s.Attempts, s.FailedAttempts, s.Rejoins, s.Retries, s.GaveUp, s.Renamed)
	p("cut off     %d connections ended by the server after their client was back\n", s.CutOff)
	p("others saw  user-connected %d in all, p50 %d, max %d per client; user-disconnected %d in all, p50 %d, max %d\n",
		s.UserConnected.Total, s.UserConnected.P50, s.UserConnected.Max,
		s.UserDisconnected.Total, s.UserDisconnected.P50, s.UserDisconnected.Max)
	if s.Rejoin == RejoinPage {
		p("members     %d names in new-user's answers and %d pages of list-users\n", s.MemberNames, s.MemberPages)
	}
	p("            quiet %v after; held %v\n", s.SettleTime.Round(time.Millisecond), s.Held)
	if s.PID > 0 {
		p("new server  pid %d: %.2f s CPU from its start until quiet, RSS %s then, %s max; the old one %.2f s CPU after the restart began\n",
			s.PID, s.CPU.Seconds(), kib(s.RSSKiB), kib(s.RSSMaxKiB), s.OldCPU.Seconds())
	}
}
