# All dependencies come from Debian 12 packages (tools/scripts/install-deps.sh installs them).
find_package(PkgConfig REQUIRED)
pkg_check_modules(URING REQUIRED IMPORTED_TARGET liburing>=2.3)
pkg_check_modules(WOLFSSL REQUIRED IMPORTED_TARGET wolfssl)
pkg_check_modules(CARES REQUIRED IMPORTED_TARGET libcares)
pkg_check_modules(ARGON2 REQUIRED IMPORTED_TARGET libargon2)
find_package(simdjson REQUIRED)
find_package(Threads REQUIRED)
find_package(mimalloc 2.0 REQUIRED)
find_package(RocksDB REQUIRED)
if(RM_TESTS)
  find_package(GTest REQUIRED)
endif()
if(RM_BENCH AND NOT RM_FUZZ AND NOT RM_SANITIZE)
  find_package(benchmark REQUIRED)
endif()

# mimalloc replaces malloc/new in the executables. Sanitizer builds keep the sanitizer's
# allocator, which must see every allocation.
function(rm_link_allocator target)
  if(NOT RM_SANITIZE AND NOT RM_FUZZ)
    target_link_libraries(${target} PRIVATE mimalloc)
  endif()
endfunction()
