// MemoryIo: the two byte queues a TlsSession's wolfSSL object reads and writes instead of a
// socket, and the wolfSSL I/O callbacks (CallbackIORecv / CallbackIOSend) that serve them.
//
// TlsContext installs the callbacks on every WOLFSSL_CTX (wolfSSL_CTX_SetIORecv/SetIOSend);
// each TlsSession points its WOLFSSL's read and write contexts at its own MemoryIo
// (wolfSSL_SetIOReadCtx/SetIOWriteCtx). The receive callback copies queued ciphertext out
// and answers WOLFSSL_CBIO_ERR_WANT_READ when there is none; the send callback appends
// everything to `out` and never blocks, so wolfSSL never sees WANT_WRITE.
// Internal to tls/.
// Thread-safety: none; owned by one TlsSession, used from its thread.
// Untrusted input: `in` holds raw bytes from the peer; these functions only move them.
#pragma once

#include <cstddef>
#include <string>

struct WOLFSSL;

namespace rm::tls_internal {

struct MemoryIo {
  std::string in;  // ciphertext received, not yet read by wolfSSL: in[in_pos, end)
  size_t in_pos = 0;
  std::string out;  // ciphertext produced by wolfSSL, not yet taken by the caller

  size_t in_available() const { return in.size() - in_pos; }
};

// The signatures of wolfSSL's CallbackIORecv and CallbackIOSend; `ctx` is a MemoryIo*.
int memory_io_recv(WOLFSSL* ssl, char* buf, int size, void* ctx);
int memory_io_send(WOLFSSL* ssl, char* buf, int size, void* ctx);

}  // namespace rm::tls_internal
