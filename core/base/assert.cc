#include "core/base/assert.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace rm {

void assert_fail(const char* expr, const char* file, int line, const char* msg) {
  // fprintf to stderr is unbuffered; the message must be out before abort().
  std::fprintf(stderr, "level=panic event=assert_failed expr=\"%s\" at=%s:%d%s%s\n", expr, file,
               line, msg ? " msg=" : "", msg ? msg : "");
  std::abort();
}

}  // namespace rm
