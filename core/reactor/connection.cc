#include "core/reactor/connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include "core/base/clock.h"
#include "core/base/log.h"
#include "core/reactor/shard.h"

namespace rm {

void ConnectionHandler::on_peer_closed(Connection& conn) { conn.close_after_flush(); }
void ConnectionHandler::on_deadline(Connection& conn) { conn.abort(); }
void ConnectionHandler::on_input_overflow(Connection& conn) { conn.abort(); }
void ConnectionHandler::on_shutdown(Connection& conn) { conn.close_after_flush(); }

Connection::Connection(Shard& shard, uint64_t key, uint64_t log_id, int fd, std::string peer,
                       std::string_view listener)
    : shard_(shard), key_(key), log_id_(log_id), fd_(fd), peer_(std::move(peer)),
      listener_(listener) {
  timer_.owner = key;
}

Connection::~Connection() {
  RM_ASSERT(!send_inflight_ && !recv_armed_);
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

void Connection::write(std::string_view bytes) {
  if (state_ != State::kOpen || bytes.empty()) {
    return;
  }
  if (filter_) {
    if (Status s = filter_->encode(bytes); !s.ok()) {
      RM_LOG(kInfo, "filter_failed").kv("conn", log_id_).kv("error", s);
      abort();
      return;
    }
    send_filter_output();
    return;
  }
  write_raw(bytes);
}

void Connection::send_filter_output() {
  std::string out = filter_->take_output();
  if (!out.empty()) {
    write_raw(out);
  }
}

void Connection::write_raw(std::string_view bytes) {
  if (bytes.empty()) {
    return;
  }
  // Small replies are appended to the last chunk unless the kernel is already sending it.
  if (out_.size() > inflight_chunks_ && out_.back().size() + bytes.size() <= kCoalesceBytes) {
    out_.back().append(bytes);
    out_bytes_ += bytes.size();
  } else {
    queue_chunk(std::string(bytes));
  }
  shard_.mark_dirty(*this);
  if (out_bytes_ > output_bytes_max_) {
    RM_LOG(kWarn, "output_overflow").kv("conn", log_id_).kv("bytes", out_bytes_);
    abort();
  }
}

void Connection::write(std::string&& bytes) {
  if (bytes.size() < kCoalesceBytes / 4 || filter_) {
    write(std::string_view(bytes));
    return;
  }
  if (state_ != State::kOpen || bytes.empty()) {
    return;
  }
  queue_chunk(std::move(bytes));
  shard_.mark_dirty(*this);
  if (out_bytes_ > output_bytes_max_) {
    RM_LOG(kWarn, "output_overflow").kv("conn", log_id_).kv("bytes", out_bytes_);
    abort();
  }
}

void Connection::queue_chunk(std::string&& bytes) {
  out_bytes_ += bytes.size();
  out_.push_back(std::move(bytes));
}

void Connection::set_deadline_in(uint32_t ms) {
  if (state_ == State::kClosing) {
    return;
  }
  shard_.schedule_deadline(*this, monotonic_ms() + ms);
}

void Connection::clear_deadline() { shard_.cancel_deadline(*this); }

void Connection::resume_input() {
  if (state_ == State::kOpen) {
    shard_.mark_resume(*this);
  }
}

void Connection::start_filter(std::unique_ptr<StreamFilter> filter) {
  RM_ASSERT(filter_ == nullptr);
  filter_ = std::move(filter);
  drop_unconsumed_ = true;  // deliver_to_handler() drops the rest once the handler returns
  send_filter_output();
}

void Connection::close_after_flush() {
  if (state_ != State::kOpen) {
    return;
  }
  if (filter_) {
    filter_->close();
    send_filter_output();
  }
  state_ = State::kDraining;
  shard_.mark_dirty(*this);  // the shard moves on to closing once the queue is empty
}

void Connection::abort() {
  if (state_ == State::kClosing) {
    return;
  }
  // Chunks the kernel is sending must outlive the send; the rest can go now.
  while (out_.size() > inflight_chunks_) {
    out_bytes_ -= out_.back().size();
    out_.pop_back();
  }
  begin_closing();
}

void Connection::begin_closing() {
  state_ = State::kClosing;
  shard_.cancel_deadline(*this);
  // Ends the multishot recv (it completes with 0) and any send the peer is not reading.
  ::shutdown(fd_, SHUT_RDWR);
  shard_.mark_dirty(*this);
}

void Connection::move_to_shard(int target, uint32_t drain_timeout_ms) {
  if (state_ != State::kOpen) {
    return;
  }
  state_ = State::kMoving;
  move_target_ = target;
  // The handler's deadline no longer applies; this one aborts a move the peer stalls.
  shard_.schedule_deadline(*this, monotonic_ms() + drain_timeout_ms);
  shard_.cancel_recv(*this);
  shard_.mark_dirty(*this);
}

void Connection::deliver(std::string_view data) {
  if (state_ == State::kMoving) {
    moved_input_.append(data);  // raw bytes: the filter decodes them on the new shard
    return;
  }
  if (state_ != State::kOpen) {
    return;  // a closing session reads no more commands
  }
  if (filter_) {
    deliver_filtered(data);
  } else {
    deliver_to_handler(data);
  }
}

void Connection::deliver_filtered(std::string_view data) {
  std::string plain;
  Status s = filter_->decode(data, plain);
  send_filter_output();
  if (!s.ok()) {
    RM_LOG(kInfo, "filter_failed").kv("conn", log_id_).kv("error", s);
    abort();
    return;
  }
  if (!plain.empty() || (data.empty() && !carry_.empty())) {
    // The plaintext is a copy already; it joins the carry-over and the handler reads that.
    carry_.append(plain);
    const size_t used = handler_->on_data(*this, carry_);
    RM_ASSERT(used <= carry_.size());
    carry_.erase(0, used);
  }
  if (state_ == State::kOpen && filter_->peer_closed()) {
    handler_->on_peer_closed(*this);
  }
  finish_delivery();
}

void Connection::deliver_to_handler(std::string_view data) {
  drop_unconsumed_ = false;
  if (carry_.empty()) {
    const size_t used = handler_->on_data(*this, data);
    RM_ASSERT(used <= data.size());
    if (used < data.size() && (state_ == State::kOpen || state_ == State::kMoving)) {
      carry_.assign(data.substr(used));  // a moving connection takes it along
    }
  } else {
    carry_.append(data);
    const size_t used = handler_->on_data(*this, carry_);
    RM_ASSERT(used <= carry_.size());
    carry_.erase(0, used);
  }
  if (drop_unconsumed_) {
    carry_.clear();  // the handler switched to a filter: the rest was sent in the clear
    drop_unconsumed_ = false;
  }
  finish_delivery();
}

void Connection::finish_delivery() {
  if (state_ != State::kOpen && state_ != State::kMoving) {
    carry_.clear();
  } else if (carry_.size() > shard_.options().limits.input_buffer_bytes_max) {
    RM_LOG(kInfo, "input_overflow").kv("conn", log_id_).kv("bytes", uint64_t{carry_.size()});
    carry_.clear();
    handler_->on_input_overflow(*this);
  }
}

bool Connection::prepare_send() {
  if (send_inflight_ || out_.empty()) {
    return false;
  }
  size_t n = 0;
  for (auto it = out_.begin(); it != out_.end() && n < kMaxIov; ++it, ++n) {
    const size_t skip = (n == 0) ? out_offset_ : 0;
    iov_[n].iov_base = it->data() + skip;
    iov_[n].iov_len = it->size() - skip;
  }
  msg_ = msghdr{};
  msg_.msg_iov = iov_;
  msg_.msg_iovlen = n;
  inflight_chunks_ = n;
  send_inflight_ = true;
  return true;
}

void Connection::complete_send(size_t sent) {
  RM_ASSERT(send_inflight_ && sent <= out_bytes_);
  send_inflight_ = false;
  inflight_chunks_ = 0;
  out_bytes_ -= sent;
  while (sent > 0) {
    const size_t left_in_front = out_.front().size() - out_offset_;
    if (sent < left_in_front) {
      out_offset_ += sent;
      break;
    }
    sent -= left_in_front;
    out_.pop_front();
    out_offset_ = 0;
  }
}

}  // namespace rm
