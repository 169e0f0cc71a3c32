// StreamFilter: a transformation between the socket's bytes and the session's bytes — TLS.
//
// A Connection with a filter passes every received byte through decode() and hands the
// handler plaintext; what the handler writes goes through encode(). A filter may produce
// bytes to send at any time (handshake records, alerts): the connection sends take_output()
// after each call. The reactor knows nothing of TLS itself; tls/ implements this.
// Thread-safety: used by the connection's shard only.
#pragma once

#include <string>
#include <string_view>

#include "core/base/status.h"

namespace rm {

class StreamFilter {
 public:
  virtual ~StreamFilter() = default;
  // Bytes from the socket in; plaintext appended to `plain`. Non-OK: close the connection.
  virtual Status decode(std::string_view in, std::string& plain) = 0;
  // Plaintext from the session in; the bytes to send come out of take_output().
  virtual Status encode(std::string_view plain) = 0;
  virtual std::string take_output() = 0;
  // The peer ended the stream cleanly (e.g. TLS close_notify).
  virtual bool peer_closed() const = 0;
  // Queue an orderly end (e.g. close_notify) before the socket closes.
  virtual void close() = 0;
};

}  // namespace rm
