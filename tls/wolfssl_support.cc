// See wolfssl_support.h.
#include "tls/wolfssl_support.h"

// <wolfssl/options.h> comes before every other wolfSSL header (sorted order keeps it so): it
// fixes the configuration, and so the struct layouts, of the installed library.
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <mutex>

namespace rm::tls_internal {

Status ensure_wolfssl_initialized() {
  static std::once_flag once;
  static int init_result = 0;
  std::call_once(once, [] { init_result = wolfSSL_Init(); });
  if (init_result != WOLFSSL_SUCCESS) {
    return Status::Internal("tls: wolfSSL_Init failed: " + wolfssl_error_string(init_result));
  }
  return Status::Ok();
}

std::string wolfssl_error_string(int code) {
  // wolfSSL_ERR_reason_error_string covers both the SSL and the wolfCrypt ranges.
  const char* text = wolfSSL_ERR_reason_error_string(static_cast<unsigned long>(code));
  std::string out = text != nullptr && text[0] != '\0' ? text : "unknown error";
  out += " (";
  out += std::to_string(code);
  out += ")";
  return out;
}

}  // namespace rm::tls_internal
