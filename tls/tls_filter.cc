#include "tls/tls_filter.h"

namespace rm {

Result<std::unique_ptr<TlsFilter>> TlsFilter::client(std::shared_ptr<TlsContext> context,
                                                     const std::string& server_name) {
  auto filter = std::make_unique<TlsFilter>(std::move(context));
  const bool is_name = !server_name.empty() &&
                       server_name.find_first_not_of("0123456789.:[]") != std::string::npos;
  if (is_name) {
    RM_RETURN_IF_ERROR(filter->session_.set_sni(server_name));
  }
  RM_RETURN_IF_ERROR(filter->session_.handshake_step());
  return filter;
}

Status TlsFilter::decode(std::string_view in, std::string& plain) {
  // The session holds a bounded amount of unread ciphertext: feed it in pieces and drain it
  // after each.
  constexpr size_t kPieceBytes = 16384;
  do {
    const std::string_view piece = in.substr(0, kPieceBytes);
    in.remove_prefix(piece.size());
    if (!piece.empty()) {
      RM_RETURN_IF_ERROR(session_.feed_ciphertext(piece));
    }
    Result<size_t> read = session_.read_plaintext(plain);
    if (!read.ok()) {
      return read.status();
    }
  } while (!in.empty());
  return Status::Ok();
}

}  // namespace rm
