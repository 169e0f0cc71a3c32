// TlsFilter: a TlsSession as the reactor's StreamFilter, so a Connection can switch to TLS
// (STARTTLS) or start in it (implicit TLS) without the reactor knowing about TLS.
// Thread-safety: the connection's shard only. Untrusted input: TLS records from the peer.
#pragma once

#include <memory>

#include "core/reactor/stream_filter.h"
#include "tls/tls_session.h"

namespace rm {

class TlsFilter final : public StreamFilter {
 public:
  explicit TlsFilter(std::shared_ptr<TlsContext> context) : session_(std::move(context)) {}

  // A client's filter, its ClientHello already made (sent when the connection takes the
  // filter); `server_name` goes in SNI when it is a name (not an address literal).
  static Result<std::unique_ptr<TlsFilter>> client(std::shared_ptr<TlsContext> context,
                                                   const std::string& server_name);

  Status decode(std::string_view in, std::string& plain) override;
  Status encode(std::string_view plain) override { return session_.write_plaintext(plain); }
  std::string take_output() override { return session_.take_ciphertext(); }
  bool peer_closed() const override { return session_.peer_closed(); }
  void close() override { session_.close(); }

  const TlsSession& session() const { return session_; }

 private:
  TlsSession session_;
};

}  // namespace rm
