// Package reactor is rftpd's event loop: it owns the control connections and
// time, and drives one protocol.Session per connection.
//
// # Threading contract
//
//   - Exactly one gnet event loop runs. OnOpen, OnTraffic, OnClose and every
//     function passed to EventLoop().Execute run on it, one at a time.
//     Control connections are accepted off it (accept.go), one goroutine
//     per listener, and each is handed to it and admitted or refused in
//     OnOpen before that listener accepts the next; an accept error pauses
//     the listener, never the loop.
//   - A protocol.Session, a gnet.Conn's loop-only methods (Peek, Discard,
//     Write, OutboundBuffered, Context) and the Server's connection set are
//     touched only on the loop.
//   - Nothing on the loop blocks: no file syscalls, password hashing, DNS or
//     data-connection accept/dial. Those are Requests handed to dtp.Server.Do,
//     which runs them on bounded pools and posts each answering Event back
//     into the connection's mailbox; the first event of a batch asks the loop
//     (EventLoop().Execute) to feed the whole batch to the Session.
//   - Replies are corked while the loop feeds a batch of events or the lines
//     that arrived together, and leave in one write (4 KiB at most are
//     collected; a close or AUTH TLS writes them first).
//   - Buffers gnet hands out (Peek) never leave the loop: a Session copies
//     what it keeps, and Write copies into gnet's outbound buffer.
//   - Session deadlines are kept on the loop (timers.go): one runtime timer,
//     set for the earliest of them, only posts a sweep into the loop when it
//     fires; it reads no session state itself. A loop with nothing due
//     sleeps.
//   - Input is bounded: one line is at most Config.MaxLine bytes; while a
//     session cannot take more lines (its queue is full, or its replies are
//     not draining) the bytes wait in gnet's inbound buffer, and past
//     Config.MaxInbound the connection is closed.
package reactor
