# The agent's core and its unit tests again, under sanitizers (included by
# tests/CMakeLists.txt, after the unit tests):
#  - unit/test-agent-<m>-asan: every unit/test-agent-*.c, linked with a
#    second build of the core (the same sources and flags as
#    fathom_agent_core_obj), both with -fsanitize=address,undefined; in the
#    default run, skipped (exit 77) where the toolchain has no such runtime;
#  - with -DFATHOM_TSAN=ON, unit/test-agent-ring*-tsan: the ring's tests,
#    its producer/consumer concurrency test among them, under
#    ThreadSanitizer (run-tsan.sh: without address-space randomisation when
#    TSan needs that; exit 77 when it cannot run here).
option(FATHOM_TSAN "Build and run the agent ring's concurrency tests under ThreadSanitizer" OFF)

include(CheckCSourceCompiles)
set(FATHOM_ASAN_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
set(CMAKE_REQUIRED_FLAGS "-fsanitize=address,undefined")
set(CMAKE_REQUIRED_LINK_OPTIONS -fsanitize=address,undefined)
check_c_source_compiles("int main(void) { return 0; }" FATHOM_HAVE_ASAN_UBSAN)
unset(CMAKE_REQUIRED_FLAGS)
unset(CMAKE_REQUIRED_LINK_OPTIONS)

get_target_property(core_sources fathom_agent_core_obj SOURCES)
get_target_property(core_dir fathom_agent_core_obj SOURCE_DIR)
get_target_property(core_options fathom_agent_core_obj COMPILE_OPTIONS)
list(TRANSFORM core_sources PREPEND ${core_dir}/)
if(FATHOM_HAVE_ASAN_UBSAN)
  add_library(fathom_agent_core_asan STATIC ${core_sources})
  target_include_directories(fathom_agent_core_asan PUBLIC ${core_dir} ${FATHOM_INCLUDE_DIR})
  target_link_libraries(fathom_agent_core_asan PUBLIC PkgConfig::ZSTD)
  target_compile_options(fathom_agent_core_asan PRIVATE ${core_options} PUBLIC ${FATHOM_ASAN_FLAGS})
  target_link_options(fathom_agent_core_asan PUBLIC ${FATHOM_ASAN_FLAGS})
endif()

foreach(src ${UNIT_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  if(NOT name MATCHES "^test-agent-")
    continue()
  endif()
  if(FATHOM_HAVE_ASAN_UBSAN)
    add_executable(unit-${name}-asan ${src})
    target_link_libraries(unit-${name}-asan PRIVATE fathom_agent_core_asan PkgConfig::CMOCKA)
    if(name STREQUAL "test-agent-unwind")
      target_link_libraries(unit-${name}-asan PRIVATE PkgConfig::UNWIND)
    endif()
    set_target_properties(unit-${name}-asan PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/unit)
    add_test(NAME unit/${name}-asan COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/unit/run-unit.sh $<TARGET_FILE:unit-${name}-asan>)
    set_tests_properties(unit/${name}-asan PROPERTIES
      ENVIRONMENT "ASAN_OPTIONS=abort_on_error=0:detect_leaks=1;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
  else()
    add_test(NAME unit/${name}-asan COMMAND sh -c "echo 'no ASan/UBSan runtime in this toolchain'; exit 77")
  endif()
  set_tests_properties(unit/${name}-asan PROPERTIES LABELS "unit;sanitize" TIMEOUT 300 SKIP_RETURN_CODE 77)
endforeach()

if(FATHOM_TSAN)
  foreach(name test-agent-ring test-agent-ring-mt)
    add_executable(unit-${name}-tsan ${CMAKE_CURRENT_SOURCE_DIR}/unit/${name}.c)
    target_include_directories(unit-${name}-tsan PRIVATE ${core_dir} ${FATHOM_INCLUDE_DIR})
    target_compile_options(unit-${name}-tsan PRIVATE -fsanitize=thread -g)
    target_link_options(unit-${name}-tsan PRIVATE -fsanitize=thread)
    target_link_libraries(unit-${name}-tsan PRIVATE PkgConfig::CMOCKA pthread)
    set_target_properties(unit-${name}-tsan PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/unit)
    add_test(NAME unit/${name}-tsan COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/unit/run-tsan.sh $<TARGET_FILE:unit-${name}-tsan>)
    set_tests_properties(unit/${name}-tsan PROPERTIES LABELS "unit;sanitize" TIMEOUT 300 SKIP_RETURN_CODE 77)
  endforeach()
endif()
