// config.js: the page's limits, timings and storage keys, in one place. It
// owns no state.

export const GENERAL = 'general'; // the room everyone is in
export const MAX_NAME = 32; // until the server says (limits.js)
export const MAX_MESSAGE = 2000;
export const MAX_ROOM = 32;
export const ROOM_CHARS = /^[\p{L}\p{Nd} ._-]+$/u;

export const ACK_TIMEOUT_MS = 8000;
export const RESEND_MS = 2000; // a message with no answer is sent again after this, doubling
export const RESEND_MAX_MS = 30000;
export const PROBE_TIMEOUT_MS = 4000; // back online: how long the old connection has to answer
export const JOIN_TIMEOUT_MS = 8000;
export const REJOIN_RETRIES = 8;
export const REJOIN_DELAY_MS = 1500;
export const ROOMS_REFRESH_MS = 15000;
// The server's lists come in pages: the directory of rooms holds up to
// ROOMS_PAGES of ROOMS_PAGE (the server's largest), a room's members up to
// USERS_PAGES of USERS_PAGE.
export const ROOMS_PAGE = 200;
export const ROOMS_PAGES = 5;
export const USERS_PAGE = 1000;
export const USERS_PAGES = 10;

export const GROUP_GAP_MS = 5 * 60 * 1000; // one person's lines closer than this form a group
export const PRESENCE_RUN_MS = 30 * 60 * 1000; // comings and goings fold into one line for this long
export const MAX_LOG_ITEMS = 1000;
export const BOTTOM_SLACK_PX = 48;
export const TOP_SLACK_PX = 160; // load older messages this close to the top
export const PAGE = 50; // scrollback page
export const CATCH_UP_PAGE = 200; // the server's largest history page
export const CATCH_UP_PAGES = 10;

export const TYPING_EVERY_MS = 2500; // repeat "typing" at most this often
export const TYPING_AFTER_SEND_MS = 1000; // after sending, start again no sooner
export const TYPING_IDLE_MS = 3000; // stop "typing" after this long without a key
export const TYPING_EXPIRE_MS = 5000; // forget someone's "typing" without a repeat

// The server allows 20 events a second per connection, bursts of 60; the
// page keeps under that so that a burst of messages is paced, not refused.
export const RATE_PER_S = 15;
export const RATE_BURST = 40;

export const NAME_KEY = 'parley.name'; // localStorage: the name to suggest
export const TOKEN_KEY = 'parley.token'; // sessionStorage: this tab's secret
export const SESSION_KEY = 'parley.session'; // sessionStorage: {name, rooms, active}
