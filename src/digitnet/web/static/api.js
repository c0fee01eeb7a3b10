// Talking to the server: JSON requests, their errors in words, and the toast that shows them.
import { stats } from './state.js';
import { $ } from './view.js';

// The request helper is written once, in kit.js (a classic script the page loads before its
// modules, for live.js and lessons.js too); the modules import it from here.
export const { api, ApiError, decode } = window.digitnetKit;

let toastTimer = null;
export function toast(message) {
  const box = $('#toast');
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 7000);
}

export function failed(error) {
  stats.errors.push(String(error.message || error));
  toast(error.message || String(error));
}
