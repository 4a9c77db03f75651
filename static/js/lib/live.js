// One Socket.IO connection per screen: it receives the whole view after every change, sends
// events with an acknowledgement, and tells the person calmly when the network drops.
import { io } from "socket.io-client";

const ACK_TIMEOUT_MS = 10000;
// The banner waits a moment before showing: a blip shorter than this is not worth a word.
const BANNER_DELAY_MS = 700;

/** A small status banner ("Reconnecting…") that appears on trouble and goes when it passes. */
export function connectionBanner(el) {
  let timer = null;
  return {
    trouble(text) {
      if (!el.hidden || timer !== null) {
        if (!el.hidden) el.textContent = text;
        return;
      }
      timer = setTimeout(() => {
        timer = null;
        el.textContent = text;
        el.hidden = false;
      }, BANNER_DELAY_MS);
    },
    clear() {
      clearTimeout(timer);
      timer = null;
      el.hidden = true;
      el.textContent = "";
    },
  };
}

/**
 * Open the screen's connection.
 *   auth        who is connecting ({token} / {display} / {session_id})
 *   onView      called with every view
 *   onConnect   called after each (re)connection, before its view arrives
 *   onTrouble   called when the connection is lost or cannot be made for now
 *   onRefused   called with {code, message} when the server refuses this screen for good
 */
export function openLive({ auth, onView, onConnect, onTrouble, onRefused }) {
  const socket = io({
    auth,
    transports: ["websocket", "polling"],
    reconnectionDelay: 500,
    reconnectionDelayMax: 3000,
  });

  socket.on("view", (view) => onView(view));
  socket.on("connect", () => onConnect && onConnect());
  socket.on("disconnect", (reason) => {
    onTrouble && onTrouble(reason);
    // The server closed this socket on purpose (e.g. restarted): try again ourselves,
    // since the client does not retry after a server-side disconnect.
    if (reason === "io server disconnect") socket.connect();
  });
  socket.on("connect_error", (error) => {
    const data = error && error.data;
    if (data && data.code) {
      onRefused && onRefused({ code: data.code, message: error.message });
    } else {
      onTrouble && onTrouble("connect_error");
    }
  });

  // A phone that knows it lost the network says so at once, and drops the dead connection
  // so that reconnecting starts as soon as the network is back.
  window.addEventListener("offline", () => {
    onTrouble && onTrouble("offline");
    if (socket.io.engine) socket.io.engine.close();
  });
  window.addEventListener("online", () => {
    if (!socket.connected && !socket.active) socket.connect();
  });

  return {
    socket,
    get connected() {
      return socket.connected;
    },
    /** Send an event; resolves to the server's acknowledgement (never rejects). */
    send(event, payload) {
      if (!socket.connected) {
        return Promise.resolve({ ok: false, error: { code: "offline", message: "" } });
      }
      return new Promise((resolve) => {
        const reply = (error, ack) => {
          if (error) resolve({ ok: false, error: { code: "timeout", message: "" } });
          else resolve(ack || { ok: false, error: { code: "server_error", message: "" } });
        };
        if (payload === undefined) socket.timeout(ACK_TIMEOUT_MS).emit(event, reply);
        else socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, reply);
      });
    },
  };
}
