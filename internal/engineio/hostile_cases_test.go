package engineio_test

import (
	"fmt"
	"strings"

	"github.com/parley-chat/parley/internal/eioparser"
)

// framingCases are Autobahn's category 1: text and binary messages whose
// lengths straddle the three length encodings.
func framingCases() []hostileCase {
	cases := []hostileCase{
		{name: "1.1.1 text of 0 bytes is no Engine.IO packet", steps: []step{{frames: frames(textFrame(""))}}, drop: true, reason: eioparser.ReasonParseError},
		{name: "1.1.1 text of 1 byte, an empty message", steps: []step{{frames: frames(message("")), want: []string{echoed("")}}}},
	}
	for i, n := range []int{125, 126, 127, 128, 65535, 65536} {
		cases = append(cases, hostileCase{
			name:  fmt.Sprintf("1.1.%d text of %d bytes", i+2, n),
			steps: []step{{frames: frames(message(padded(n))), want: []string{echoed(padded(n))}}},
		})
	}
	cases = append(cases, hostileCase{
		name:  "1.1.8 text of 65536 bytes in writes of 997",
		steps: []step{{frames: frames(message(padded(65536))), chop: 997, want: []string{echoed(padded(65536))}}},
	})
	for i, n := range []int{0, 125, 126, 127, 128, 65535, 65536} {
		data := strings.Repeat("\xfe", n)
		cases = append(cases, hostileCase{
			name:  fmt.Sprintf("1.2.%d binary of %d bytes", i+1, n),
			steps: []step{{frames: frames(binFrame(data)), want: []string{binEcho(data)}}},
		})
	}
	data := strings.Repeat("\xfe", 65536)
	return append(cases, hostileCase{
		name:  "1.2.8 binary of 65536 bytes in writes of 997",
		steps: []step{{frames: frames(binFrame(data)), chop: 997, want: []string{binEcho(data)}}},
	})
}

// pingCases are category 2: WebSocket pings are answered with their
// payload, unsolicited pongs are ignored, long pings fail.
func pingCases() []hostileCase {
	bin := "\x00\xff\xfe\xfd\xfc\xfb\x00\xff"
	long := strings.Repeat("\xfe", 125)
	var ten [][]byte
	var tenPongs []string
	for i := range 10 {
		p := fmt.Sprintf("ping %d", i)
		ten = append(ten, pingFrame(p))
		tenPongs = append(tenPongs, pong(p))
	}
	return []hostileCase{
		{name: "2.1 ping without payload", steps: []step{{frames: frames(pingFrame("")), want: []string{pong("")}}}},
		{name: "2.2 ping with a text payload", steps: []step{{frames: frames(pingFrame("are you there?")), want: []string{pong("are you there?")}}}},
		{name: "2.3 ping with a binary payload", steps: []step{{frames: frames(pingFrame(bin)), want: []string{pong(bin)}}}},
		{name: "2.4 ping of 125 bytes", steps: []step{{frames: frames(pingFrame(long)), want: []string{pong(long)}}}},
		{name: "2.5 ping of 126 bytes", steps: []step{{frames: frames(pingFrame(long + "!"))}}, reply: 1002},
		{name: "2.6 ping of 125 bytes, one byte per write", steps: []step{{frames: frames(pingFrame(long)), chop: 1, want: []string{pong(long)}}}},
		{name: "2.7 unsolicited pong", steps: []step{{frames: frames(pongFrame(""))}}},
		{name: "2.8 unsolicited pong with a payload", steps: []step{{frames: frames(pongFrame("unasked"))}}},
		{name: "2.9 unsolicited pong, then ping", steps: []step{{frames: frames(pongFrame("unasked"), pingFrame("asked")), want: []string{pong("asked")}}}},
		{name: "2.10 ten pings", steps: []step{{frames: ten, want: tenPongs}}},
		{name: "2.11 ten pings, one byte per write", steps: []step{{frames: ten, chop: 1, want: tenPongs}}},
	}
}

// reservedBitCases are category 3: no extension is negotiated, so any
// reserved bit fails the connection, and what follows the frame is not
// answered.
func reservedBitCases() []hostileCase {
	return []hostileCase{
		{name: "3.1 text with RSV1", steps: []step{{frames: frames(reserved(1, wsText, "4hi"))}}, reply: 1002},
		{name: "3.2 message, text with RSV2, ping", steps: []step{{frames: frames(message("hi"), reserved(2, wsText, "4hi"), pingFrame("")), want: []string{echoed("hi")}}}, reply: 1002},
		{name: "3.3 message, text with RSV3, ping, one write per frame", steps: []step{{frames: frames(message("hi"), reserved(3, wsText, "4hi"), pingFrame("")), chop: perFrame, want: []string{echoed("hi")}}}, reply: 1002},
		{name: "3.4 message, text with RSV4, ping, one byte per write", steps: []step{{frames: frames(message("hi"), reserved(4, wsText, "4hi"), pingFrame("")), chop: 1, want: []string{echoed("hi")}}}, reply: 1002},
		{name: "3.5 binary with RSV5", steps: []step{{frames: frames(reserved(5, wsBinary, "\x00\xff"))}}, reply: 1002},
		{name: "3.6 ping with RSV6", steps: []step{{frames: frames(reserved(6, wsPing, "p"))}}, reply: 1002},
		{name: "3.7 close with RSV7", steps: []step{{frames: frames(reserved(7, wsClose, "\x03\xe8"))}}, reply: 1002},
	}
}

// opcodeCases are category 4: reserved opcodes, data (3-7) and control
// (11-15), alone or after a message and before a ping.
func opcodeCases() []hostileCase {
	var cases []hostileCase
	for i, op := range []byte{3, 4, 5, 6, 7, 11, 12, 13, 14, 15} {
		sub, kind := i%5+1, "4.1"
		if op > 10 {
			kind = "4.2"
		}
		payload := ""
		if sub != 1 && sub != 3 {
			payload = "reserved"
		}
		c := hostileCase{name: fmt.Sprintf("%s.%d opcode %d", kind, sub, op), reply: 1002}
		if sub <= 2 {
			c.steps = []step{{frames: frames(frame(true, op, payload))}}
		} else {
			c.name += " after a message, before a ping"
			c.steps = []step{{frames: frames(message("hi"), frame(true, op, payload), pingFrame("")), want: []string{echoed("hi")}}}
		}
		cases = append(cases, c)
	}
	return cases
}

// fragmentationCases are category 5: fragmented messages, control frames
// between fragments, continuations of nothing.
func fragmentationCases() []hostileCase {
	twoFrags := frames(frame(false, wsText, "4frag"), frame(true, wsCont, "ment"))
	withPing := frames(frame(false, wsText, "4frag"), pingFrame("between"), frame(true, wsCont, "ment"))
	orphan := func(fin bool) [][]byte {
		return frames(frame(fin, wsCont, "nothing to continue"), message("after"))
	}
	cases := []hostileCase{
		{name: "5.1 ping in two fragments", steps: []step{{frames: frames(frame(false, wsPing, "pi"), frame(true, wsCont, "ng"))}}, reply: 1002},
		{name: "5.2 pong in two fragments", steps: []step{{frames: frames(frame(false, wsPong, "po"), frame(true, wsCont, "ng"))}}, reply: 1002},
		{name: "5.3 text in two fragments", steps: []step{{frames: twoFrags, want: []string{echoed("fragment")}}}},
		{name: "5.4 text in two fragments, one write per frame", steps: []step{{frames: twoFrags, chop: perFrame, want: []string{echoed("fragment")}}}},
		{name: "5.5 text in two fragments, one byte per write", steps: []step{{frames: twoFrags, chop: 1, want: []string{echoed("fragment")}}}},
		{name: "5.6 ping between fragments", steps: []step{{frames: withPing, want: []string{pong("between"), echoed("fragment")}}}},
		{name: "5.7 ping between fragments, one write per frame", steps: []step{{frames: withPing, chop: perFrame, want: []string{pong("between"), echoed("fragment")}}}},
		{name: "5.8 ping between fragments, one byte per write", steps: []step{{frames: withPing, chop: 1, want: []string{pong("between"), echoed("fragment")}}}},
		{name: "5.9 final continuation of nothing", steps: []step{{frames: orphan(true)}}, reply: 1002},
		{name: "5.10 final continuation of nothing, one write per frame", steps: []step{{frames: orphan(true), chop: perFrame}}, reply: 1002},
		{name: "5.11 final continuation of nothing, one byte per write", steps: []step{{frames: orphan(true), chop: 1}}, reply: 1002},
		{name: "5.12 continuation of nothing", steps: []step{{frames: orphan(false)}}, reply: 1002},
		{name: "5.13 continuation of nothing, one write per frame", steps: []step{{frames: orphan(false), chop: perFrame}}, reply: 1002},
		{name: "5.14 continuation of nothing, one byte per write", steps: []step{{frames: orphan(false), chop: 1}}, reply: 1002},
		{name: "5.15 continuation after a complete fragmented message", steps: []step{{
			frames: append(twoFrags, frame(false, wsCont, "stray"), message("after")),
			want:   []string{echoed("fragment")},
		}}, reply: 1002},
		{name: "5.16 continuation of nothing, then a fragmented message, twice", steps: []step{{
			frames: append(append(frames(frame(false, wsCont, "stray")), twoFrags...), append(frames(frame(false, wsCont, "stray")), twoFrags...)...),
		}}, reply: 1002},
		{name: "5.17 final continuation of nothing, then a fragmented message, twice", steps: []step{{
			frames: append(append(frames(frame(true, wsCont, "stray")), twoFrags...), append(frames(frame(true, wsCont, "stray")), twoFrags...)...),
		}}, reply: 1002},
		{name: "5.18 second fragment with the text opcode", steps: []step{{frames: frames(frame(false, wsText, "4frag"), frame(true, wsText, "ment"))}}, reply: 1002},
	}
	// 5.19 and 5.20: pings answered while a message is still incomplete.
	for i, chop := range []int{0, perFrame} {
		cases = append(cases, hostileCase{
			name: fmt.Sprintf("5.%d pings answered in the middle of a message (chop %d)", 19+i, chop),
			steps: []step{
				{frames: frames(frame(false, wsText, "4one "), frame(false, wsCont, "two "), pingFrame("first")), chop: chop, want: []string{pong("first")}},
				{frames: frames(frame(false, wsCont, "three "), frame(false, wsCont, "four "), pingFrame("second")), chop: chop, want: []string{pong("second")}},
				{frames: frames(frame(true, wsCont, "five")), chop: chop, want: []string{echoed("one two three four five")}},
			},
		})
	}
	return cases
}

// utf8Cases are category 6: text must be valid UTF-8, whole, split across
// fragments or writes; an invalid sequence fails the connection with 1007
// as soon as it arrives, before the message is complete.
func utf8Cases() []hostileCase {
	const greek = "κόσμε"            // 2-byte sequences
	const mixed = "grüße, ✓ 😀 mixed" // 2-, 3- and 4-byte sequences
	var oneByteFrags [][]byte
	whole := "4" + mixed
	for i := range len(whole) {
		op := byte(wsCont)
		if i == 0 {
			op = wsText
		}
		oneByteFrags = append(oneByteFrags, frame(i == len(whole)-1, op, whole[i:i+1]))
	}
	bad := "4" + greek + "\xed\xa0\x80" + "tail" // a surrogate, U+D800
	cases := []hostileCase{
		{name: "6.1.1 empty message", steps: []step{{frames: frames(message("")), want: []string{echoed("")}}}},
		{name: "6.1.2 three empty fragments are no Engine.IO packet", steps: []step{{frames: frames(frame(false, wsText, ""), frame(false, wsCont, ""), frame(true, wsCont, ""))}}, drop: true, reason: eioparser.ReasonParseError},
		{name: "6.1.2 empty message and two empty fragments", steps: []step{{frames: frames(frame(false, wsText, "4"), frame(false, wsCont, ""), frame(true, wsCont, "")), want: []string{echoed("")}}}},
		{name: "6.1.3 empty fragments around the payload", steps: []step{{frames: frames(frame(false, wsText, ""), frame(false, wsCont, "4middle"), frame(true, wsCont, "")), want: []string{echoed("middle")}}}},
		{name: "6.2.1 valid text in one frame", steps: []step{{frames: frames(message(mixed)), want: []string{echoed(mixed)}}}},
		{name: "6.2.2 valid text in two fragments split between code points", steps: []step{{frames: frames(frame(false, wsText, "4grüße, "), frame(true, wsCont, "✓ 😀 mixed")), want: []string{echoed(mixed)}}}},
		{name: "6.2.3 valid text in fragments of one byte", steps: []step{{frames: oneByteFrags, want: []string{echoed(mixed)}}}},
		{name: "6.2.4 valid text in fragments of one byte, one write each", steps: []step{{frames: oneByteFrags, chop: perFrame, want: []string{echoed(mixed)}}}},
		{name: "6.3.1 invalid text in one frame", steps: []step{{frames: frames(textFrame(bad))}}, reply: 1007},
		{name: "6.3.2 invalid text in fragments of one byte", steps: []step{{frames: fragmented(wsText, bad, 1)}}, reply: 1007},
		// 6.4: fail fast. The rest of the message is never sent: the
		// server must fail the connection on what it has.
		{name: "6.4.1 fragment with a code point past U+10FFFF", steps: []step{
			{frames: frames(frame(false, wsText, "4"+greek))},
			{frames: frames(frame(false, wsCont, "\xf4\x90\x80\x80"))},
		}, reply: 1007},
		{name: "6.4.2 fragment ending at the first invalid byte", steps: []step{
			{frames: frames(frame(false, wsText, "4"+greek))},
			{frames: frames(frame(false, wsCont, "\xf4\x90"))},
		}, reply: 1007},
	}
	// 6.4.3 and 6.4.4: the same, within one frame that arrives in pieces.
	long := textFrame("4" + greek + "\xf4\x90\x80\x80" + strings.Repeat("never sent ", 10))
	start := len(long) - len("\xf4\x90\x80\x80"+strings.Repeat("never sent ", 10))
	for i, end := range []int{start + 4, start + 2} {
		parts := split(long, start, end)
		cases = append(cases, hostileCase{
			name:  fmt.Sprintf("6.4.%d piece of a frame with an invalid sequence (%d bytes of it)", 3+i, end-start),
			steps: []step{{frames: parts[:1]}, {frames: parts[1:2]}},
			reply: 1007,
		})
	}
	for _, s := range []struct {
		name, bytes string
		valid       bool
	}{
		{"6.5 valid: Greek", greek, true},
		{"6.6 valid: U+0000", "\x00", true},
		{"6.6 valid: U+007F", "\x7f", true},
		{"6.6 valid: U+0080", "\xc2\x80", true},
		{"6.6 valid: U+07FF", "\xdf\xbf", true},
		{"6.6 valid: U+0800", "\xe0\xa0\x80", true},
		{"6.6 valid: U+D7FF, below the surrogates", "\xed\x9f\xbf", true},
		{"6.6 valid: U+E000, above the surrogates", "\xee\x80\x80", true},
		{"6.6 valid: U+FFFD", "\xef\xbf\xbd", true},
		{"6.6 valid: U+FFFE, a noncharacter", "\xef\xbf\xbe", true},
		{"6.6 valid: U+FFFF", "\xef\xbf\xbf", true},
		{"6.6 valid: U+10000", "\xf0\x90\x80\x80", true},
		{"6.6 valid: U+10FFFF", "\xf4\x8f\xbf\xbf", true},
		{"6.7 invalid: lone continuation byte 80", "\x80", false},
		{"6.7 invalid: lone continuation byte BF", "a\xbfb", false},
		{"6.7 invalid: three continuation bytes", "\x80\xbf\x80", false},
		{"6.8 invalid: lead byte C2 before a space", "\xc2 ", false},
		{"6.8 invalid: lead byte E1 before a space", "\xe1 ", false},
		{"6.8 invalid: lead byte F1 before a space", "\xf1 ", false},
		{"6.9 invalid: 2-byte sequence cut at the end", "ab\xc2", false},
		{"6.9 invalid: 3-byte sequence cut at the end", "ab\xe2\x82", false},
		{"6.9 invalid: 4-byte sequence cut at the end", "ab\xf0\x9f\x98", false},
		{"6.10 invalid: overlong '/' in 2 bytes", "\xc0\xaf", false},
		{"6.10 invalid: overlong '/' in 3 bytes", "\xe0\x80\xaf", false},
		{"6.10 invalid: overlong '/' in 4 bytes", "\xf0\x80\x80\xaf", false},
		{"6.10 invalid: overlong U+07FF in 3 bytes", "\xe0\x9f\xbf", false},
		{"6.10 invalid: overlong U+FFFF in 4 bytes", "\xf0\x8f\xbf\xbf", false},
		{"6.10 invalid: overlong NUL, C1", "\xc1\x80", false},
		{"6.11 invalid: high surrogate U+D800", "\xed\xa0\x80", false},
		{"6.11 invalid: low surrogate U+DFFF", "\xed\xbf\xbf", false},
		{"6.11 invalid: surrogate pair", "\xed\xa0\xbd\xed\xb8\x80", false},
		{"6.12 invalid: U+110000", "\xf4\x90\x80\x80", false},
		{"6.12 invalid: lead byte F5", "\xf5\x80\x80\x80", false},
		{"6.12 invalid: 5-byte sequence", "\xf8\x88\x80\x80\x80", false},
		{"6.12 invalid: 6-byte sequence", "\xfc\x84\x80\x80\x80\x80", false},
		{"6.12 invalid: bytes FE and FF", "\xfe\xfe\xff\xff", false},
	} {
		c := hostileCase{name: s.name, steps: []step{{frames: frames(message(s.bytes))}}}
		if s.valid {
			c.steps[0].want = []string{echoed(s.bytes)}
		} else {
			c.reply = 1007
		}
		cases = append(cases, c)
	}
	return cases
}

// closeCases are category 7: the close handshake, what follows a close
// frame, and the close frame's payload: its length, code and reason.
func closeCases() []hostileCase {
	cases := []hostileCase{
		{name: "7.1.1 message, then close", steps: []step{{frames: frames(message("bye"), closeFrame(1000, "")), want: []string{echoed("bye")}}}, reply: 1000},
		{name: "7.1.2 two close frames", steps: []step{{frames: frames(closeFrame(1000, ""), closeFrame(1000, ""))}}, reply: 1000},
		{name: "7.1.3 ping after close", steps: []step{{frames: frames(closeFrame(1000, ""), pingFrame("late"))}}, reply: 1000},
		{name: "7.1.4 message after close", steps: []step{{frames: frames(closeFrame(1000, ""), message("late"))}}, reply: 1000},
		{name: "7.1.5 close between fragments", steps: []step{{frames: frames(frame(false, wsText, "4frag"), closeFrame(1000, ""), frame(true, wsCont, "ment"))}}, reply: 1000},
		{name: "7.1.6 long message, close, ping", steps: []step{{
			frames: frames(message(strings.Repeat("long ", 50_000)), closeFrame(1000, ""), pingFrame("late")),
			want:   []string{echoed(strings.Repeat("long ", 50_000))},
		}}, reply: 1000},
		{name: "7.3.1 close without payload", steps: []step{{frames: frames(frame(true, wsClose, ""))}}, reply: 1000},
		{name: "7.3.2 close with a 1-byte payload", steps: []step{{frames: frames(frame(true, wsClose, "\x03"))}}, reply: 1002},
		{name: "7.3.3 close with a code", steps: []step{{frames: frames(closeFrame(1000, ""))}}, reply: 1000},
		{name: "7.3.4 close with a code and a reason", steps: []step{{frames: frames(closeFrame(1000, "done"))}}, reply: 1000},
		{name: "7.3.5 close with a reason of 123 bytes", steps: []step{{frames: frames(closeFrame(1000, strings.Repeat("r", 123)))}}, reply: 1000},
		{name: "7.3.6 close with a reason of 124 bytes", steps: []step{{frames: frames(closeFrame(1000, strings.Repeat("r", 124)))}}, reply: 1002},
		{name: "7.5.1 close with a reason that is not UTF-8", steps: []step{{frames: frames(closeFrame(1000, "bad \xce\xba\xe1\xbd"))}}, reply: 1007},
	}
	// 7.7: codes a peer may send (RFC 6455, 7.4.1; IANA's registry: 1012
	// to 1014 were assigned since).
	for _, code := range []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999} {
		cases = append(cases, hostileCase{
			name:  fmt.Sprintf("7.7 close with code %d", code),
			steps: []step{{frames: frames(closeFrame(code, "valid"))}},
			reply: 1000, reason: eioparser.ReasonTransportClose,
		})
	}
	// 7.9 and 7.13: codes that are reserved, unassigned, or out of range.
	for _, code := range []uint16{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		cases = append(cases, hostileCase{
			name:  fmt.Sprintf("7.9 close with code %d", code),
			steps: []step{{frames: frames(closeFrame(code, "invalid"))}},
			reply: 1002,
		})
	}
	return cases
}

// limitCases are category 9: messages up to MaxPayload, whole, in many
// fragments or in small writes, and past it; many messages in a row.
func limitCases() []hostileCase {
	limit := hostileMaxPayload
	text := padded(limit) // "4" and these make MaxPayload bytes
	data := strings.Repeat("\xfe", limit)
	cases := []hostileCase{}
	for i, n := range []int{64 << 10, 256 << 10, limit} {
		cases = append(cases,
			hostileCase{name: fmt.Sprintf("9.1.%d text of %d bytes", i+1, n), steps: []step{{frames: frames(message(padded(n))), want: []string{echoed(padded(n))}}}},
			hostileCase{name: fmt.Sprintf("9.2.%d binary of %d bytes", i+1, n), steps: []step{{frames: frames(binFrame(data[:n])), want: []string{binEcho(data[:n])}}}})
	}
	cases = append(cases,
		hostileCase{name: "9.1.4 text past MaxPayload", steps: []step{{frames: frames(message(padded(limit + 1)))}}, reply: 1009},
		hostileCase{name: "9.2.4 binary past MaxPayload", steps: []step{{frames: frames(binFrame(data + "!"))}}, reply: 1009},
		hostileCase{name: "9.3.8 text past MaxPayload in fragments of 64 KiB", steps: []step{{frames: fragmented(wsText, "4"+text+"!", 64<<10)}}, reply: 1009},
		hostileCase{name: "9.4.8 binary past MaxPayload in fragments of 64 KiB", steps: []step{{frames: fragmented(wsBinary, data+"!", 64<<10)}}, reply: 1009},
	)
	for i, size := range []int{64, 1 << 10, 16 << 10, 256 << 10} {
		cases = append(cases,
			hostileCase{name: fmt.Sprintf("9.3.%d text of MaxPayload in fragments of %d", i+1, size), steps: []step{{frames: fragmented(wsText, "4"+text, size), want: []string{echoed(text)}}}},
			hostileCase{name: fmt.Sprintf("9.4.%d binary of MaxPayload in fragments of %d", i+1, size), steps: []step{{frames: fragmented(wsBinary, data, size), want: []string{binEcho(data)}}}})
	}
	for i, chop := range []int{64, 512, 2048} {
		cases = append(cases,
			hostileCase{name: fmt.Sprintf("9.5.%d text of MaxPayload in writes of %d", i+1, chop), steps: []step{{frames: frames(message(text)), chop: chop, want: []string{echoed(text)}}}},
			hostileCase{name: fmt.Sprintf("9.6.%d binary of MaxPayload in writes of %d", i+1, chop), steps: []step{{frames: frames(binFrame(data)), chop: chop, want: []string{binEcho(data)}}}})
	}
	var texts, bins [][]byte
	var textEchoes, binEchoes []string
	for i := range 1000 {
		s := fmt.Sprintf("message %d %s", i, strings.Repeat("x", i%64))
		texts, textEchoes = append(texts, message(s)), append(textEchoes, echoed(s))
		bins, binEchoes = append(bins, binFrame(s)), append(binEchoes, binEcho(s))
	}
	return append(cases,
		hostileCase{name: "9.7 a thousand text messages", steps: []step{{frames: texts, want: textEchoes}}},
		hostileCase{name: "9.8 a thousand binary messages", steps: []step{{frames: bins, want: binEchoes}}},
	)
}

// engineIOCases are what an Engine.IO server makes of text frames that are
// valid WebSocket but not what an Engine.IO v4 client sends.
func engineIOCases() []hostileCase {
	return []hostileCase{
		// Only the server pings in Engine.IO v4: the reference server
		// closes the session ("invalid heartbeat direction").
		{name: "eio ping packet from the client", steps: []step{{frames: frames(textFrame("2"))}}, drop: true, reason: eioparser.ReasonTransportError},
		{name: "eio probe ping outside an upgrade", steps: []step{{frames: frames(textFrame("2probe"))}}, drop: true, reason: eioparser.ReasonTransportError},
		{name: "eio unsolicited pong packet", steps: []step{{frames: frames(textFrame("3"), message("still here")), want: []string{echoed("still here")}}}},
		{name: "eio open, upgrade and noop packets are ignored", steps: []step{{frames: frames(textFrame("0"), textFrame("5"), textFrame("6"), message("still here")), want: []string{echoed("still here")}}}},
		{name: "eio unknown packet type", steps: []step{{frames: frames(textFrame("9"))}}, drop: true, reason: eioparser.ReasonParseError},
		{name: "eio close packet", steps: []step{{frames: frames(textFrame("1"))}}, drop: true, reason: eioparser.ReasonTransportClose},
		{name: "eio binary message of Engine.IO digits", steps: []step{{frames: frames(binFrame("2")), want: []string{binEcho("2")}}}},
	}
}
