// The Socket.IO chat tutorial's server, on the reference implementation:
// the baseline that bench/compare measures parley against. It listens on
// $PORT (default 3000) at $HOST (default 127.0.0.1; the tutorial listens
// on every address, through io(PORT), which does the same as below).
const http = require('http')

const port = Number(process.env.PORT || 3000)
const host = process.env.HOST || '127.0.0.1'
const server = http.createServer()
const io = require('socket.io')(server, { cors: { origin: '*' } })

const users = {}

// The tutorial keeps no history. For bench/compare's idle-history
// scenario, HISTORY=n gives the server one: the last n messages, in
// memory, starting with n made up as compare makes parley's
// (historyMessage in ../history.go), of which each new connection gets the
// last HISTORY_SENT (default 50) as chat-message events.
const keep = Number(process.env.HISTORY || 0)
const sent = Number(process.env.HISTORY_SENT || 50)
const history = []
for (let i = 0; i < keep; i++) {
  history.push({ message: `message ${i + 1} of the room's history, of a length chat messages often have`, name: `person${i % 7}` })
}
const remember = m => {
  history.push(m)
  if (history.length > keep) history.shift()
}

io.on('connection', socket => {
  if (keep > 0) {
    for (const m of history.slice(-sent)) socket.emit('chat-message', m)
  }
  socket.on('new-user', name => {
    users[socket.id] = name
    socket.broadcast.emit('user-connected', name)
  })
  socket.on('send-chat-message', message => {
    const m = { message, name: users[socket.id] }
    if (keep > 0) remember(m)
    socket.broadcast.emit('chat-message', m)
  })
  socket.on('disconnect', () => {
    socket.broadcast.emit('user-disconnected', users[socket.id])
    delete users[socket.id]
  })
})

server.listen(port, host)

const stop = () => io.close(() => process.exit(0))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
