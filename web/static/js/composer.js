// composer.js: the message box: its height and character count, its error
// line, and sending what was typed (Enter; Shift+Enter for a new line). A
// message is counted as the server counts it, in code points, and one too
// long is kept and refused, never cut. It owns no state beyond the box
// itself.

import { ui } from './dom.js';
import { draftOf, keepDraft } from './drafts.js';
import { limits } from './limits.js';
import { send } from './outbox.js';
import { active, activeRoom } from './rooms.js';
import { codePoints } from './text.js';
import { stopTypingToSend } from './typing.js';

function showComposerError(text) {
  ui.composerError.textContent = text;
  ui.composerError.hidden = !text;
}

const COUNT_FROM = 0.9; // the count shows from this much of the limit

// overflow is how many characters the composer holds over the limit,
// counted as the server counts them (code points); 0 when it fits.
function overflow() {
  return Math.max(0, codePoints(ui.messageInput.value) - limits.message);
}

const num = (n) => n.toLocaleString('en-US');

// updateComposer fits the box to its text, and shows the count of
// characters near the limit and how many are too many over it. Nothing is
// ever cut: the box has no maxlength, which counts UTF-16 units (an emoji
// is two) and would drop what is pasted beyond it without a word.
export function updateComposer() {
  const ta = ui.messageInput;
  ta.style.height = 'auto';
  ta.style.height = `${Math.min(ta.scrollHeight, 168)}px`;
  const n = codePoints(ta.value);
  const over = overflow();
  if (n >= limits.message * COUNT_FROM) {
    ui.charCount.textContent = over > 0
      ? `${num(n)} / ${num(limits.message)} · ${num(over)} too many`
      : `${num(n)} / ${num(limits.message)}`;
    ui.charCount.hidden = false;
  } else {
    ui.charCount.hidden = true;
  }
  ui.charCount.classList.toggle('over', over > 0);
  if (over > 0) ta.setAttribute('aria-invalid', 'true');
  else ta.removeAttribute('aria-invalid');
  if (!ui.composerError.hidden && over === 0) showComposerError('');
}

export function sendFromComposer() {
  const text = ui.messageInput.value;
  if (text.trim() === '') {
    ui.messageInput.focus();
    return;
  }
  const over = overflow();
  if (over > 0) {
    showComposerError(`This message is ${num(over)} ${over === 1 ? 'character' : 'characters'} too long: at most ${num(limits.message)}. Shorten it, or send it in parts.`);
    ui.messageInput.focus();
    return;
  }
  showComposerError('');
  stopTypingToSend();
  send(activeRoom(), text);
  ui.messageInput.value = '';
  keepDraft(active, '');
  updateComposer();
  ui.messageInput.focus();
}

// noteDraft keeps what the composer holds as the draft of the room shown.
export function noteDraft() {
  keepDraft(active, ui.messageInput.value);
}

// swapDraft puts the composer's text aside as the draft of room from, and
// shows the draft of room to.
export function swapDraft(from, to) {
  if (from === to) return;
  if (from) keepDraft(from, ui.messageInput.value);
  ui.messageInput.value = draftOf(to);
  showComposerError('');
  updateComposer();
}

// showDraft shows the draft of the room shown (after a reload).
export function showDraft() {
  ui.messageInput.value = draftOf(active);
  updateComposer();
}

// onComposerKey sends on Enter, unless Shift is down or an input method
// is composing.
export function onComposerKey(e) {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
    e.preventDefault();
    sendFromComposer();
  }
}
