// Connection: one accepted socket on a shard, with its input carry-over, its ordered output
// queue and its deadline.
//
// Output: write() appends to a queue of chunks; the shard sends them with one sendmsg at a
// time (gathered iovecs), resuming after short sends, so replies go out in order.
// Input: the shard hands received bytes to the handler in place; only what the handler
// leaves unconsumed is copied into the carry-over (bounded by input_buffer_bytes_max), so
// receive buffers go back to the kernel as soon as the handler returns.
// Closing: close_after_flush() sends what is queued, then closes; abort() closes at once.
// Either way the socket is closed only after the kernel has finished every operation on it.
// Thread-safety: owned by one shard thread; handlers use it only from that thread.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "core/reactor/connection_handler.h"
#include "core/reactor/stream_filter.h"
#include "core/reactor/timer_wheel.h"

namespace rm {

class Shard;

class Connection {
 public:
  Connection(Shard& shard, uint64_t key, uint64_t log_id, int fd, std::string peer,
             std::string_view listener);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Unique in the process, for logs (`conn=`).
  uint64_t id() const { return log_id_; }
  Shard& shard() { return shard_; }
  int fd() const { return fd_; }
  // "ip:port" ("[v6]:port"), or "local" for UNIX sockets.
  const std::string& peer() const { return peer_; }
  std::string_view listener() const { return listener_; }

  void write(std::string_view bytes);
  void write(std::string&& bytes);
  void write(const char* text) { write(std::string_view(text)); }
  size_t output_bytes() const { return out_bytes_; }
  // The handler's on_drained() runs once the unsent output has fallen to `bytes` or below
  // (after a send completes): how a session streams a large answer without holding it all.
  void notify_when_drained(size_t bytes) {
    drain_notify_ = true;
    drain_below_ = bytes;
  }

  // Replaces the deadline: on_deadline() runs `ms` from now unless set again or cleared.
  void set_deadline_in(uint32_t ms);
  void clear_deadline();

  // Hands the carried-over input to the handler again without waiting for new bytes (for a
  // handler that stopped consuming while it waited for something else).
  void resume_input();

  // From now on, bytes received go through `filter` before the handler sees them and bytes
  // written go through it before the socket (STARTTLS, implicit TLS). Whatever the handler
  // had not consumed is dropped: bytes sent before the switch are never read as plaintext
  // afterwards (RFC 3207 §5: no command injection).
  void start_filter(std::unique_ptr<StreamFilter> filter);
  bool filtered() const { return filter_ != nullptr; }

  void close_after_flush();
  void abort();
  bool open() const { return state_ == State::kOpen; }

  // Moves this connection (socket, handler, stream filter, unread input) to shard `target`:
  // what a session does once it knows which shard owns the state it works on (DESIGN §1).
  // From this call on the handler gets no calls here. Once the queued output has gone out
  // and the receive is cancelled, the socket leaves this shard; on `target` it becomes a
  // new Connection (same log id), the handler's on_moved() runs, and then on_data() with
  // the input that arrived meanwhile. If the socket fails first, the connection closes here
  // (its handler is destroyed on this shard); so it does when the output has not gone out
  // within `drain_timeout_ms` (a peer that does not read cannot hold the move forever).
  static constexpr uint32_t kMoveDrainTimeoutMs = 30000;
  void move_to_shard(int target, uint32_t drain_timeout_ms = kMoveDrainTimeoutMs);
  bool moving() const { return state_ == State::kMoving; }

 private:
  friend class Shard;
  enum class State { kOpen, kDraining, kClosing, kMoving };
  static constexpr size_t kMaxIov = 64;
  static constexpr size_t kCoalesceBytes = 16384;

  void deliver(std::string_view data);
  void deliver_to_handler(std::string_view data);
  void deliver_filtered(std::string_view data);
  void finish_delivery();
  void write_raw(std::string_view bytes);
  void send_filter_output();
  void queue_chunk(std::string&& bytes);
  void begin_closing();
  // Builds the msghdr for the next sendmsg; returns false when there is nothing to send.
  bool prepare_send();
  void complete_send(size_t sent);

  Shard& shard_;
  const uint64_t key_;  // slot + generation, as encoded in user_data
  uint64_t log_id_;     // kept when the connection moves to another shard
  int fd_;              // -1 once moved to another shard
  const std::string peer_;
  const std::string_view listener_;
  std::unique_ptr<ConnectionHandler> handler_;
  std::unique_ptr<StreamFilter> filter_;
  bool drop_unconsumed_ = false;  // start_filter() ran inside on_data()
  State state_ = State::kOpen;

  std::string carry_;
  std::deque<std::string> out_;
  size_t out_offset_ = 0;  // bytes of out_.front() already sent
  size_t out_bytes_ = 0;
  size_t inflight_chunks_ = 0;
  bool send_inflight_ = false;
  bool recv_armed_ = false;
  bool dirty_ = false;           // on the shard's flush list
  bool resume_pending_ = false;  // on the shard's resume list
  bool shutdown_called_ = false;
  bool counted_ = true;  // counts toward limits.connections_max
  size_t output_bytes_max_ = 0;
  iovec iov_[kMaxIov];
  msghdr msg_{};
  TimerNode timer_;
  int move_target_ = -1;
  bool drain_notify_ = false;
  size_t drain_below_ = 0;
  std::string moved_input_;  // received while moving: handed to the new shard
};

}  // namespace rm
