// See thread_caches.h.
#include "tls/thread_caches.h"

// <wolfssl/options.h> comes before every other wolfSSL header (sorted order keeps it so): it
// fixes the configuration, and so the struct layouts, of the installed library.
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/ecc.h>

namespace rm {

void release_tls_thread_caches() {
#if defined(HAVE_ECC) && defined(FP_ECC)
  wc_ecc_fp_free();
#endif
  wolfSSL_ERR_clear_error();  // the per-thread error queue (ERROR_QUEUE_PER_THREAD)
}

}  // namespace rm
