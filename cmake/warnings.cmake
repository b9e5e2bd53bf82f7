# Warnings are errors on our own code only; third-party headers come in as SYSTEM.
add_library(bazaar_warnings INTERFACE)
target_compile_options(bazaar_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  -Wold-style-cast -Woverloaded-virtual -Werror)
