// Unsent words kept on the phone itself, so a locked screen, a reload or a dropped network
// never loses them. Each entry says whether the server has the same copy yet ("synced"), and
// whether the person already pressed send ("submit": "answer" or "pass"), so that an answer
// sent without a network goes out by itself once the phone is back.

const PREFIX = "facilitator:draft:";

function storage() {
  try {
    return window.localStorage;
  } catch {
    return null; // private browsing with storage switched off: the server copy still works
  }
}

export function draftKey(sessionId, participantId, stepIndex, part = "answer") {
  return `${PREFIX}${sessionId}:${participantId}:${stepIndex}:${part}`;
}

/** {value, synced, editing, submit, at} or null. */
export function loadDraft(key) {
  const store = storage();
  if (!store) return null;
  try {
    const entry = JSON.parse(store.getItem(key) || "null");
    return entry && typeof entry === "object" && "value" in entry ? entry : null;
  } catch {
    return null;
  }
}

export function saveDraft(key, value, { synced = false, editing = false, submit = null } = {}) {
  const store = storage();
  if (!store) return;
  try {
    store.setItem(key, JSON.stringify({ value, synced, editing, submit, at: Date.now() }));
  } catch {
    // Storage full: the server copy (save_draft) still keeps the words.
  }
}

export function markSynced(key, value) {
  const entry = loadDraft(key);
  if (entry && !entry.submit && JSON.stringify(entry.value) === JSON.stringify(value)) {
    saveDraft(key, value, { synced: true, editing: entry.editing });
  }
}

export function forgetDraft(key) {
  const store = storage();
  if (store) store.removeItem(key);
}

/** Forget every draft of a session (it ended: nothing of it stays on the phone). */
export function forgetSession(sessionId) {
  const store = storage();
  if (!store) return;
  const mine = `${PREFIX}${sessionId}:`;
  for (let i = store.length - 1; i >= 0; i -= 1) {
    const key = store.key(i);
    if (key && key.startsWith(mine)) store.removeItem(key);
  }
}
