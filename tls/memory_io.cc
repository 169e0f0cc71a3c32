// See memory_io.h.
#include "tls/memory_io.h"

// <wolfssl/options.h> comes before every other wolfSSL header (sorted order keeps it so): it
// fixes the configuration, and so the struct layouts, of the installed library.
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <algorithm>
#include <cstring>

namespace rm::tls_internal {

int memory_io_recv(WOLFSSL* /*ssl*/, char* buf, int size, void* ctx) {
  auto* io = static_cast<MemoryIo*>(ctx);
  if (io == nullptr || size < 0) {
    return WOLFSSL_CBIO_ERR_GENERAL;
  }
  size_t n = std::min(io->in_available(), static_cast<size_t>(size));
  if (n == 0) {
    return WOLFSSL_CBIO_ERR_WANT_READ;
  }
  std::memcpy(buf, io->in.data() + io->in_pos, n);
  io->in_pos += n;
  if (io->in_pos == io->in.size()) {
    io->in.clear();  // keeps the capacity; TlsSession releases it when idle
    io->in_pos = 0;
  }
  return static_cast<int>(n);
}

int memory_io_send(WOLFSSL* /*ssl*/, char* buf, int size, void* ctx) {
  auto* io = static_cast<MemoryIo*>(ctx);
  if (io == nullptr || size < 0) {
    return WOLFSSL_CBIO_ERR_GENERAL;
  }
  io->out.append(buf, static_cast<size_t>(size));
  return size;
}

}  // namespace rm::tls_internal
