package sioparser

import (
	"bytes"
	"fmt"
)

// defaultMaxAttachmentBytes is the limit on the total attachment bytes
// of one packet that NewPacketReassembler applies when given zero or less.
const defaultMaxAttachmentBytes = 10 << 20

// PacketReassembler turns the Engine.IO messages of one session into
// complete Socket.IO packets: it decodes text messages with DecodePacket and
// holds a BINARY_EVENT or BINARY_ACK until the binary messages carrying its
// attachments have arrived.
//
// Feed it every message of the session in arrival order. After an error it
// is reset; the caller should close the connection, as the peer broke the
// protocol. A PacketReassembler is not safe for concurrent use; it belongs to
// the session's reader.
type PacketReassembler struct {
	maxBytes int
	pending  *Packet // awaiting attachments, or nil
	want     int     // attachments pending announced
	size     int     // bytes of attachments received for pending
}

// NewPacketReassembler returns a PacketReassembler that rejects packets
// whose attachments total more than maxAttachmentBytes bytes, or
// 10 MiB when maxAttachmentBytes <= 0.
func NewPacketReassembler(maxAttachmentBytes int) *PacketReassembler {
	if maxAttachmentBytes <= 0 {
		maxAttachmentBytes = defaultMaxAttachmentBytes
	}
	return &PacketReassembler{maxBytes: maxAttachmentBytes}
}

// AddText decodes a text message (without its Engine.IO '4' prefix). It
// returns the packet if it is complete, or nil if it awaits attachments.
//
// A packet returned at once is as DecodePacket returns it: its Data aliases
// text. A packet held for attachments gets a copy of its Data, so the caller
// may reuse text as soon as AddText returns nil.
func (r *PacketReassembler) AddText(text []byte) (*Packet, error) {
	if r.pending != nil {
		r.Reset()
		return nil, fmt.Errorf("reassemble packet: %w", ErrAttachmentsPending)
	}
	p, n, err := DecodePacket(text)
	if err != nil {
		return nil, err
	}
	if p.Type != PacketBinaryEvent && p.Type != PacketBinaryAck {
		return p, nil
	}
	if n == 0 {
		if err := checkPlaceholders(p.Data, 0); err != nil {
			return nil, fmt.Errorf("reassemble packet: %w", err)
		}
		p.Attachments = [][]byte{}
		return p, nil
	}
	p.Data = bytes.Clone(p.Data)
	p.Attachments = make([][]byte, 0, n)
	r.pending, r.want, r.size = p, n, 0
	return nil, nil
}

// AddBinary takes a binary message as the next attachment of the pending
// packet. It returns the packet once its last attachment has arrived, and nil
// before that. The packet's Attachments are the slices passed to AddBinary,
// not copies: the caller hands them over and must not modify them.
func (r *PacketReassembler) AddBinary(data []byte) (*Packet, error) {
	p := r.pending
	if p == nil {
		return nil, fmt.Errorf("reassemble packet: %w", ErrUnexpectedAttachment)
	}
	r.size += len(data)
	if r.size > r.maxBytes {
		r.Reset()
		return nil, fmt.Errorf("reassemble packet: attachments above %d bytes: %w", r.maxBytes, ErrAttachmentsTooLarge)
	}
	p.Attachments = append(p.Attachments, data)
	if len(p.Attachments) < r.want {
		return nil, nil
	}
	r.Reset()
	if err := checkPlaceholders(p.Data, len(p.Attachments)); err != nil {
		return nil, fmt.Errorf("reassemble packet: %w", err)
	}
	return p, nil
}

// Pending returns how many attachments the held packet still awaits, zero
// when no packet is held.
func (r *PacketReassembler) Pending() int {
	if r.pending == nil {
		return 0
	}
	return r.want - len(r.pending.Attachments)
}

// Reset drops any packet held for attachments, as when the session's
// transport is replaced or closed.
func (r *PacketReassembler) Reset() {
	r.pending, r.want, r.size = nil, 0, 0
}

// checkPlaceholders checks, as the official server does when it
// reconstructs a binary packet, that every object in data whose
// "_placeholder" member is true has a "num" member indexing one of the n
// attachments (written as digits: 0, 1, ...). Attachments no placeholder
// refers to are allowed. data must be valid JSON, as DecodePacket ensures.
func checkPlaceholders(data []byte, n int) error {
	// Without the key spelled out or a \u escape, which could spell it,
	// there is no placeholder: skip the walk.
	if !bytes.Contains(data, []byte("_placeholder")) && !bytes.Contains(data, []byte(`\u`)) {
		return nil
	}
	_, err := walkPlaceholders(data, skipWS(data, 0), n)
	return err
}

// walkPlaceholders checks the placeholders in the valid JSON value
// starting at data[i]. It returns the index just past the value, even with
// an error, and the first error found.
func walkPlaceholders(data []byte, i, n int) (int, error) {
	switch data[i] {
	case '[':
		var firstErr error
		i = skipWS(data, i+1)
		for data[i] != ']' {
			end, err := walkPlaceholders(data, i, n)
			if err != nil && firstErr == nil {
				firstErr = err
			}
			i = skipWS(data, end)
			if data[i] == ',' {
				i = skipWS(data, i+1)
			}
		}
		return i + 1, firstErr
	case '{':
		// As in JavaScript, the last of duplicate members counts, and the
		// members of a placeholder are not themselves checked.
		var (
			flag bool
			num  []byte
			errs map[string]error // members with bad placeholders, by key
		)
		i = skipWS(data, i+1)
		for data[i] != '}' {
			keyEnd, _ := scanString(data, i)
			key := data[i:keyEnd]
			i = skipWS(data, skipWS(data, keyEnd)+1) // past ':'
			end, err := walkPlaceholders(data, i, n)
			if err != nil || len(errs) > 0 {
				k, _ := unquote(key)
				if err != nil {
					if errs == nil {
						errs = make(map[string]error)
					}
					errs[k] = err
				} else {
					delete(errs, k) // a later duplicate shadows the bad member
				}
			}
			switch {
			case keyIs(key, "_placeholder"):
				flag = string(data[i:end]) == "true"
			case keyIs(key, "num"):
				num = data[i:end]
			}
			i = skipWS(data, end)
			if data[i] == ',' {
				i = skipWS(data, i+1)
			}
		}
		i++ // past '}'
		if !flag {
			for _, err := range errs {
				return i, err
			}
			return i, nil
		}
		if _, ok := placeholderIndex(num, n); !ok {
			return i, fmt.Errorf("placeholder num %.20q with %d attachments: %w", num, n, ErrInvalidPlaceholder)
		}
		return i, nil
	default:
		end, _ := scanValue(data, i, 0)
		return end, nil
	}
}

// placeholderIndex parses the JSON number num as an attachment index,
// reporting false unless it is written as plain digits and is below n.
func placeholderIndex(num []byte, n int) (int, bool) {
	if len(num) == 0 || len(num) > 10 {
		return 0, false
	}
	for _, c := range num {
		if !isDigit(c) {
			return 0, false
		}
	}
	i := parseDigits(num)
	if i >= uint64(n) {
		return 0, false
	}
	return int(i), true
}
