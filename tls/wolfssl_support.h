// Glue to the wolfSSL library shared by tls/: one-time process initialisation and the
// text of wolfSSL/wolfCrypt error codes.
//
// wolfSSL_Init (which also initialises wolfCrypt: RNG seeding, the ECC fixed-point cache
// mutex, the session cache locks) runs once; wolfSSL_Cleanup is never called, the library
// lives as long as the process. Internal to tls/.
// Thread-safety: any thread, any number of times (std::call_once; the error text is looked
// up in wolfSSL's static tables).
// Untrusted input: none.
#pragma once

#include <string>

#include "core/base/status.h"

namespace rm::tls_internal {

// OK once wolfSSL is initialised; the same error on every call if initialisation failed.
Status ensure_wolfssl_initialized();

// "description (code)" for a wolfSSL or wolfCrypt error code (negative numbers).
std::string wolfssl_error_string(int code);

}  // namespace rm::tls_internal
