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
  AUTH_REQUIRED: 'auth_required', // app mode: the connection has no identity; sign in again in the host application
});

// RETRYABLE are the refusals that sending the same again may get past;
// the others would be refused again (too long, a character that cannot be
// stored, a room we are not in, a malformed request).
const RETRYABLE = new Set([Code.RATE_LIMITED, Code.NOT_JOINED, Code.NOT_STORED, Code.UNAVAILABLE]);

// retryable reports whether a refusal with this code may succeed if sent
// again; a code the page does not know is given the benefit of the doubt.
export const retryable = (code) => RETRYABLE.has(code) || !Object.values(Code).includes(code);

// codeOf returns the code of an answer, or '' when it has none (no answer
// at all, or an acceptance).
export const codeOf = (res) => (res && typeof res.code === 'string' ? res.code : '');
