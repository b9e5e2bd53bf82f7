# bazaar_db_test(<target> MIGRATIONS <define> SOURCES <files...> LIBS <targets...>)
# A test binary run against the real PostgreSQL of scripts/test (label `integration`, one
# at a time): the service's migrations directory is passed to it as the `<define>` macro.
function(bazaar_db_test target)
  cmake_parse_arguments(ARG "" "MIGRATIONS" "SOURCES;LIBS" ${ARGN})
  add_executable(${target} ${PROJECT_SOURCE_DIR}/events/test_main.cpp ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE ${ARG_LIBS} bazaar_test_harness bazaar_warnings
    doctest::doctest)
  target_compile_definitions(${target} PRIVATE
    ${ARG_MIGRATIONS}="${CMAKE_CURRENT_SOURCE_DIR}/migrations")
  doctest_discover_tests(${target} PROPERTIES LABELS integration RUN_SERIAL TRUE TIMEOUT 120)
endfunction()
