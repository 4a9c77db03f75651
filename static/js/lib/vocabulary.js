// The feelings-and-needs catalogue for the chip picker, fetched once per language.

const loaded = new Map();

/** {language, feelings: [{group, label, concepts}], needs: [...]} for `language`. */
export function loadVocabulary(language) {
  if (!loaded.has(language)) {
    const request = fetch(`/vocabulary/${encodeURIComponent(language)}.json`, {
      credentials: "same-origin",
    }).then((response) => {
      if (!response.ok) throw new Error(`vocabulary ${response.status}`);
      return response.json();
    });
    // A failed fetch is forgotten so the next attempt (e.g. after reconnecting) tries again.
    request.catch(() => loaded.delete(language));
    loaded.set(language, request);
  }
  return loaded.get(language);
}

/** The quadrant most of a group's feelings sit in, to colour its heading. */
export function groupQuadrant(group) {
  const counts = new Map();
  for (const concept of group.concepts) {
    if (!concept.pleasantness) continue;
    const key = `q-${concept.pleasantness}-${concept.energy}`;
    counts.set(key, (counts.get(key) || 0) + 1);
  }
  let best = "";
  let most = 0;
  for (const [key, count] of counts) {
    if (count > most) {
      best = key;
      most = count;
    }
  }
  return best;
}
