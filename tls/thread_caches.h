// Per-thread wolfSSL state, and how to release it.
//
// The installed wolfSSL is built with FP_ECC: each thread that does ECC (every TLS
// handshake with an ECDSA certificate or ECDHE over P-256) keeps a fixed-point lookup table
// per frequently used curve point — about 0.8 MiB each, up to FP_ENTRIES points — in
// thread-local storage. It speeds up later handshakes on that thread and is never freed by
// wolfSSL itself. Call release_tls_thread_caches() on a thread that has driven TLS sessions
// before it exits (a shard thread, a test's server thread); otherwise the tables leak.
// Thread-safety: affects only the calling thread; call it when none of this thread's
// sessions is in the middle of a call.
// Untrusted input: none.
#pragma once

namespace rm {

void release_tls_thread_caches();

}  // namespace rm
