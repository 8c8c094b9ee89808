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

io.on('connection', socket => {
  socket.on('new-user', name => {
    users[socket.id] = name
    socket.broadcast.emit('user-connected', name)
  })
  socket.on('send-chat-message', message => {
    socket.broadcast.emit('chat-message', { message, name: users[socket.id] })
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
