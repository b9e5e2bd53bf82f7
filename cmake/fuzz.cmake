# The fuzzing build (scripts/fuzz): clang with libFuzzer, AddressSanitizer and UBSan over
# every translation unit, so a bug in the code under test is caught where it happens and not
# only where the fuzz target looks. It builds only the targets of tests/fuzz/ and what they
# link; the services, their Beast transport and the other tests are configured but not built.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "BAZAAR_FUZZ needs clang (libFuzzer): configure with "
                      "-DCMAKE_CXX_COMPILER=clang++-14, as scripts/fuzz does")
endif()

# -O1 keeps the stack traces readable and the executions fast; assertions stay on (no NDEBUG).
# Every UBSan finding aborts, so libFuzzer reports it as a crash with the input that caused it.
# vptr checks need RTTI of SOCI, which Debian builds without sanitizers: they stay off.
set(BAZAAR_SANITIZERS -fsanitize=address,undefined -fno-sanitize=vptr
                      -fno-sanitize-recover=all)
add_compile_options(-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link
                    ${BAZAAR_SANITIZERS})
add_link_options(${BAZAAR_SANITIZERS})

# The GCC build is the one whose warnings fail the build; clang warns about some things GCC
# does not, and the fuzzing build must not stop on them: they stay visible, not errors.
set_property(TARGET bazaar_warnings APPEND PROPERTY INTERFACE_COMPILE_OPTIONS -Wno-error)
