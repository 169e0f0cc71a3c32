// RM_ASSERT: an invariant check that stays on in every build type.
//
// Use it for programmer errors whose breach would corrupt state (a slot freed twice, a
// queue index out of range). Operating errors (bad client input, a full disk) are
// Status values instead, never assertions.
#pragma once

namespace rm {

[[noreturn]] void assert_fail(const char* expr, const char* file, int line, const char* msg);

}  // namespace rm

#define RM_ASSERT(cond)                                        \
  do {                                                         \
    if (__builtin_expect(!(cond), 0)) {                        \
      ::rm::assert_fail(#cond, __FILE__, __LINE__, nullptr);   \
    }                                                          \
  } while (0)

#define RM_ASSERT_MSG(cond, msg)                               \
  do {                                                         \
    if (__builtin_expect(!(cond), 0)) {                        \
      ::rm::assert_fail(#cond, __FILE__, __LINE__, (msg));     \
    }                                                          \
  } while (0)
