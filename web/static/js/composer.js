// composer.js: the message box: its height and character count, its error
// line, and sending what was typed (Enter; Shift+Enter for a new line). It
// owns no state beyond the box itself.

import { MAX_MESSAGE } from './config.js';
import { ui } from './dom.js';
import { send } from './outbox.js';
import { activeRoom } from './rooms.js';
import { codePoints } from './text.js';
import { stopTypingToSend } from './typing.js';

function showComposerError(text) {
  ui.composerError.textContent = text;
  ui.composerError.hidden = !text;
}

export function updateComposer() {
  const ta = ui.messageInput;
  ta.style.height = 'auto';
  ta.style.height = `${Math.min(ta.scrollHeight, 168)}px`;
  const n = codePoints(ta.value);
  if (n > MAX_MESSAGE - 200) {
    ui.charCount.textContent = ` · ${n}/${MAX_MESSAGE}`;
    ui.charCount.hidden = false;
  } else {
    ui.charCount.hidden = true;
  }
  if (!ui.composerError.hidden && n <= MAX_MESSAGE) showComposerError('');
}

export function sendFromComposer() {
  const text = ui.messageInput.value;
  if (text.trim() === '') {
    ui.messageInput.focus();
    return;
  }
  if (codePoints(text) > MAX_MESSAGE) {
    showComposerError(`That message is too long: at most ${MAX_MESSAGE} characters.`);
    return;
  }
  showComposerError('');
  stopTypingToSend();
  send(activeRoom(), text);
  ui.messageInput.value = '';
  updateComposer();
  ui.messageInput.focus();
}

// onComposerKey sends on Enter, unless Shift is down or an input method
// is composing.
export function onComposerKey(e) {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
    e.preventDefault();
    sendFromComposer();
  }
}
