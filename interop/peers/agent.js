// The interop echo agent, shared by every JavaScript peer (Node's ws, websocket and
// watershed, and the page Chromium runs). The Go tests drive it in-band: every data
// message is echoed with its own opcode, except text messages starting with "@@",
// which are commands (see ../doc.go for the protocol):
//
//   @@close CODE REASON  close the connection with CODE and REASON
//   @@ping PAYLOAD       ping with PAYLOAD; answer "@@pong PAYLOAD" when the pong arrives
//   @@frag N             echo later messages in fragments of N bytes
//   @@info               answer "@@info {json}" (library, subprotocol, version)
//
// A command the library cannot carry out is answered "@@unsupported WHAT: WHY".
//
// The adapter (conn) a peer passes in has: lib, protocol, version, send(isText,
// data), and, where the library can: ping(payload), sendFragments(isText, data, n),
// close(code, reason) (returns a reason string when it cannot). The adapter calls
// agent.message(isText, data) and agent.pong(payload) on input.
(function (root) {
  'use strict';

  function Agent(conn) {
    this.conn = conn;
    this.fragSize = 0;
  }

  Agent.prototype.reply = function (text) {
    this.conn.send(true, text);
  };

  Agent.prototype.message = function (isText, data) {
    if (isText && typeof data === 'string' && data.lastIndexOf('@@', 0) === 0) {
      this.command(data);
      return;
    }
    if (this.fragSize > 0) {
      this.conn.sendFragments(isText, data, this.fragSize);
    } else {
      this.conn.send(isText, data);
    }
  };

  Agent.prototype.command = function (line) {
    var sp = line.indexOf(' ');
    var verb = sp < 0 ? line : line.slice(0, sp);
    var arg = sp < 0 ? '' : line.slice(sp + 1);
    var c = this.conn;
    switch (verb) {
      case '@@close': {
        var sp2 = arg.indexOf(' ');
        var code = parseInt(sp2 < 0 ? arg : arg.slice(0, sp2), 10);
        var reason = sp2 < 0 ? '' : arg.slice(sp2 + 1);
        var why;
        try {
          why = c.close(code, reason);
        } catch (e) {
          why = String(e && e.name ? e.name + ': ' + e.message : e);
        }
        if (why) this.reply('@@unsupported close ' + code + ': ' + why);
        return;
      }
      case '@@ping':
        if (!c.ping) {
          this.reply('@@unsupported ping: ' + c.lib + ' has no API to send a ping');
          return;
        }
        c.ping(arg);
        return;
      case '@@frag': {
        if (!c.sendFragments) {
          this.reply('@@unsupported frag: ' + c.lib + ' has no API to send a fragmented message');
          return;
        }
        this.fragSize = parseInt(arg, 10);
        this.reply('@@ok frag ' + this.fragSize);
        return;
      }
      case '@@info':
        this.reply('@@info ' + JSON.stringify({ lib: c.lib, subprotocol: c.protocol || '', version: c.version || 13 }));
        return;
      default:
        this.reply('@@unsupported ' + verb + ': unknown command');
    }
  };

  // pong is called with the payload of a pong as a string.
  Agent.prototype.pong = function (payload) {
    this.reply('@@pong ' + payload);
  };

  var api = { Agent: Agent };
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = api;
  } else {
    root.InteropAgent = api;
  }
})(this);
