// Package tlsrec is the TLS 1.3 record layer (RFC 8446 §5) after the
// handshake, as two socket-free state machines: a Reader that opens the
// records of the byte stream a peer sends, in whatever chunks the network
// delivers them, and a Writer that seals application data into the caller's
// outbound buffer. The handshake itself is crypto/tls's (see package
// internal/tlshand, which hands over the negotiated suite, the application
// traffic secrets and the sequence numbers at the hand-off).
//
// Contract:
//
//   - Suites: TLS_AES_128_GCM_SHA256 and TLS_AES_256_GCM_SHA384, with AES-GCM
//     from crypto/aes + crypto/cipher and HKDF from crypto/hkdf and crypto/hmac,
//     nothing else.
//     TLS_CHACHA20_POLY1305_SHA256 needs golang.org/x/crypto, which the main
//     module may not import: NewReader and NewWriter return
//     ErrUnsupportedSuite and the caller keeps the connection in goroutine
//     mode with its tls.Conn.
//   - Keys: key = HKDF-Expand-Label(secret, "key", "", key_length), iv =
//     HKDF-Expand-Label(secret, "iv", "", 12) (§7.3); each record's nonce is
//     the IV XOR the 64-bit sequence number (§5.3), which is never reused and
//     never wraps: a key refuses with ErrSeqExhausted before 2^64-1, and a
//     Writer sends a KeyUpdate after AutoUpdateRecords records (§5.5).
//   - Every byte is an attacker's. The outer header is checked as soon as its
//     5 bytes are there, before the body is awaited and before any arithmetic:
//     type application_data only (a plaintext alert, change_cipher_spec or
//     handshake record after the handshake is an unexpected_message), legacy
//     version 0x0303, length <= 2^14+256 (record_overflow) and >= the tag.
//     After decryption the inner plaintext is <= 2^14+1 bytes, its content
//     type the last non-zero byte (§5.4; none: unexpected_message). A record
//     that fails authentication is bad_record_mac. Nothing panics on input.
//   - In place, no allocation per record: Open decrypts in the caller's read
//     buffer and returns the data as a slice of it; Decrypt also packs the
//     data of several records at the buffer's front. AppendSeal encrypts into
//     the caller's outbound buffer. Allocation happens only when an AEAD is
//     built (the first record after the hand-off, a KeyUpdate or an idle
//     drop) and while a post-handshake message is cut across records.
//   - Stream parsing: Open takes the record at the front of its buffer and
//     reports N == 0 until it is whole; feeding any split of a stream gives
//     the same data and the same error (the fuzz target checks it). A partial
//     record stays in the caller's buffer: an idle connection with no partial
//     record holds no buffer here, only the keys.
//   - Idle (idle.go): each direction derives its key and IV and builds its
//     AES-GCM AEAD (about 0.9 KB: key schedules, GHASH table) at the first
//     record that needs them and drops them when the owner's Relax finds the
//     direction idle (no burst for IdleAfter); Drop drops them at once. What
//     stays is the suite, the secret and the sequence number, 64 bytes inline
//     in the Reader or Writer. The sequence number survives a drop and the
//     secret gives the same key and IV again, so a rebuilt AEAD never reuses
//     a nonce; a KeyUpdate drops the old key's derived state.
//   - Alerts: close_notify ends the stream with io.EOF; any other alert is a
//     remote *AlertError. A violation is a local *AlertError whose alert the
//     caller must send (AlertToSend, then Writer.AppendAlert) and write
//     before closing: this package never writes.
//   - Post-handshake messages (§4.6), coalesced or fragmented across records
//     (reassembled up to 64 KiB): KeyUpdate updates the receive key; with
//     update_requested Open sets Record.UpdateRequested and the caller must
//     seal Writer.AppendKeyUpdate(dst, false) before its next application data.
//     Writer.AppendKeyUpdate(dst, true) initiates one. NewSessionTicket goes
//     to ReaderOptions.OnSessionTicket on the client side (the raw message;
//     crypto/tls's session cache cannot take it, see internal/tlshand) and is
//     an unexpected_message on the server side; anything else (post-handshake
//     CertificateRequest included: it is never offered) is unexpected_message.
//     A message this side refuses is refused from its header (a KeyUpdate
//     whose length is not 1 too), before its body is kept, so a server keeps
//     at most a KeyUpdate's 4-byte header across records. More than 16
//     messages in a row with no application data between them (a KeyUpdate
//     flood: each costs a key derivation and an AEAD) is an
//     unexpected_message, as crypto/tls's maxUselessRecords.
//   - Kernel TLS (kernel.go, not built: the seam): Reader.HandOver and
//     Writer.HandOver return a direction's key, IV and next sequence number in
//     the form Linux takes them, and end the Reader or Writer, so that no
//     record is sealed or opened twice under one nonce.
//   - Ownership: Reader and Writer are separate so the read side (the worker
//     that holds the connection's running bit) and the write side (under the
//     write lock) each own one; neither is safe for concurrent use. The only
//     thing the read side tells the write side is UpdateRequested.
package tlsrec
