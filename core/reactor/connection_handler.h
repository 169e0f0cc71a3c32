// ConnectionHandler: the protocol side of a connection (a session), driven by its shard.
//
// The shard calls these from its own thread, never concurrently, and never after
// on_close(). Handlers are pure protocol logic over a Connection: they parse the bytes
// given to on_data() (in place: the view points into the shard's receive buffers or the
// connection's carry-over) and answer with Connection::write().
#pragma once

#include <cstddef>
#include <string_view>

namespace rm {

class Connection;

class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;

  // The connection is accepted and registered; a greeting goes here.
  virtual void on_open(Connection& conn) = 0;

  // `input` is every byte received and not yet consumed. Return how many bytes (a prefix)
  // were consumed; the rest is kept and presented again, followed by the next bytes
  // received. The view is only valid during the call.
  virtual size_t on_data(Connection& conn, std::string_view input) = 0;

  // The peer closed its sending side. Default: finish sending, then close.
  virtual void on_peer_closed(Connection& conn);

  // The deadline set with Connection::set_deadline_in() passed. Default: close now.
  virtual void on_deadline(Connection& conn);

  // Unconsumed input grew past limits.input_buffer_bytes_max. Default: close now.
  virtual void on_input_overflow(Connection& conn);

  // The server is shutting down; the session should say goodbye and close. It gets
  // runtime.shutdown_drain_ms before the shard closes it. Default: close after flushing.
  virtual void on_shutdown(Connection& conn);

  // The unsent output fell below what Connection::notify_when_drained() asked for.
  virtual void on_drained(Connection& /*conn*/) {}

  // The connection moved to another shard (Connection::move_to_shard); `conn` is the new
  // one, on the new shard's thread, where every later call happens.
  virtual void on_moved(Connection& /*conn*/) {}

  // The connection is gone (socket closed). Last call; the handler is destroyed next.
  virtual void on_close(Connection& /*conn*/) {}
};

}  // namespace rm
