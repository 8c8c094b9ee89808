// codes.js: the stable codes of the server's refusals. A refused event is
// answered {ok: false, code, error}: `code` is for programs, `error` is
// English for people and may change, so the page compares codes, never
// texts (the README's Events section lists them). It owns no state.

export const Code = Object.freeze({
  BAD_REQUEST: 'bad_request',
  RATE_LIMITED: 'rate_limited', // wait, then retry
  NAME_INVALID: 'name_invalid',
  NAME_TOO_LONG: 'name_too_long',
  NAME_TAKEN: 'name_taken',
  ALREADY_JOINED: 'already_joined', // this connection joined with new-user already
  NOT_JOINED: 'not_joined', // join with new-user first
  MESSAGE_INVALID: 'message_invalid',
  MESSAGE_TOO_LONG: 'message_too_long',
  ROOM_INVALID: 'room_invalid',
  NOT_IN_ROOM: 'not_in_room',
  ROOM_LIMIT: 'room_limit', // the room does not exist, and too many were created lately; join one that does
  NOT_STORED: 'not_stored', // sending again with the same clientId is safe
  UNAVAILABLE: 'unavailable',
});

// codeOf returns the code of an answer, or '' when it has none (no answer
// at all, or an acceptance).
export const codeOf = (res) => (res && typeof res.code === 'string' ? res.code : '');
