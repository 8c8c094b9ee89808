package chat_test

import (
	"testing"

	"github.com/parley-chat/parley/internal/chat"
)

// TestRefusalCodes pins the codes clients switch on: they are part of the
// wire contract, and changing one breaks clients.
func TestRefusalCodes(t *testing.T) {
	cases := []struct {
		err  *chat.Refusal
		code string
	}{
		{chat.ErrBadRequest, "bad_request"},
		{chat.ErrRateLimited, "rate_limited"},
		{chat.ErrNameType, "name_invalid"},
		{chat.ErrNameEmpty, "name_invalid"},
		{chat.ErrNameInvalid, "name_invalid"},
		{chat.ErrNameTooLong, "name_too_long"},
		{chat.ErrNameTaken, "name_taken"},
		{chat.ErrAlreadyJoined, "already_joined"},
		{chat.ErrNotJoined, "not_joined"},
		{chat.ErrMessageType, "message_invalid"},
		{chat.ErrMessageEmpty, "message_invalid"},
		{chat.ErrMessageInvalid, "message_invalid"},
		{chat.ErrMessageTooLong, "message_too_long"},
		{chat.ErrRoomInvalid, "room_invalid"},
		{chat.ErrNotInRoom, "not_in_room"},
		{chat.ErrRoomLimitPerson, "room_limit"},
		{chat.ErrRoomLimitAddress, "room_limit"},
		{chat.ErrRoomsFull, "room_limit"},
		{chat.ErrNotStored, "not_stored"},
		{chat.ErrUnavailable, "unavailable"},
		{chat.ErrNameReserved, "name_taken"},
		{chat.ErrJoinsLimited, "rate_limited"},
		{chat.ErrClaimsLimited, "rate_limited"},
		{chat.ErrNotAuthenticated, "auth_required"},
	}
	for _, tc := range cases {
		t.Run(tc.code+"/"+tc.err.Text, func(t *testing.T) {
			if string(tc.err.Code) != tc.code {
				t.Errorf("code %q, want %q", tc.err.Code, tc.code)
			}
			if tc.err.Error() == "" || tc.err.Error() != tc.err.Text {
				t.Errorf("Error() %q, want the text %q", tc.err.Error(), tc.err.Text)
			}
		})
	}
}
