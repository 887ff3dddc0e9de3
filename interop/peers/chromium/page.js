// The browser side of the Chromium peer: window.runClient(cmd) opens a WebSocket
// from the page, runs the echo agent (agent.js) on it, and resolves with the
// report once it closes (see driver.js).
(function () {
  'use strict';
  window.runClient = function (cmd) {
    return new Promise(function (resolve) {
      var rep = { event: 'report', id: cmd.id, lib: 'chromium', open: false, status: 0, statusReason: '', subprotocol: '', version: 0, close: null, error: '' };
      var ws;
      try {
        ws = new WebSocket(cmd.url, cmd.protocols || []);
      } catch (e) {
        rep.error = String(e);
        resolve(rep);
        return;
      }
      ws.binaryType = 'arraybuffer';
      var conn = {
        lib: 'chromium ' + ((navigator.userAgent.match(/Chrome\/([0-9.]+)/) || [])[1] || ''),
        protocol: '',
        version: 13,
        send: function (isText, data) { ws.send(data); },
        // The browser API has no ping and no fragmentation control; close() accepts
        // only 1000 and 3000-4999 (it throws InvalidAccessError for others).
        close: function (code, reason) { ws.close(code, reason); return ''; },
      };
      var agent = new window.InteropAgent.Agent(conn);
      ws.onopen = function () {
        rep.open = true;
        rep.version = 13;
        conn.protocol = ws.protocol;
        rep.subprotocol = ws.protocol;
      };
      ws.onmessage = function (ev) { agent.message(typeof ev.data === 'string', ev.data); };
      ws.onerror = function () { rep.error = rep.error || 'error event'; };
      ws.onclose = function (ev) {
        rep.close = { code: ev.code, reason: ev.reason, wasClean: ev.wasClean };
        resolve(rep);
      };
    });
  };
})();
