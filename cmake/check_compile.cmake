# Compiles SOURCE (cmake -P) with COMPILER -fsyntax-only and checks the outcome: EXPECT=success
# must compile; EXPECT=failure (compiled with LATENT_EXPECT_FAIL defined) must fail with exactly
# one compiler error, and the output must match every pattern in PATTERNS. INCLUDES (the
# target's include directories, less the compiler's own, IMPLICIT; LATENT_INCLUDE is latent's,
# whose warnings count), FLAGS, PATTERNS and PCH_ARGS (how the compiler finds a precompiled
# latent.hpp) are lists separated by "|||". Used by tests/compile_fail.
cmake_minimum_required(VERSION 3.16)  # for IN_LIST
foreach(list INCLUDES IMPLICIT FLAGS PATTERNS PCH_ARGS)
  string(REPLACE "|||" ";" ${list} "${${list}}")
endforeach()
set(args -std=gnu++20 -fsyntax-only ${FLAGS})
list(APPEND args ${PCH_ARGS})  # a precompiled latent.hpp: its folder (g++) or -include-pch (clang)
foreach(dir ${INCLUDES})
  if(dir STREQUAL LATENT_INCLUDE)
    list(APPEND args -I${dir})  # latent's own headers: their warnings count
  elseif(NOT dir IN_LIST IMPLICIT)
    list(APPEND args -isystem ${dir})
  endif()
endforeach()
get_filename_component(TARGET ${SOURCE} NAME_WE)
if(EXPECT STREQUAL "failure")
  list(APPEND args -DLATENT_EXPECT_FAIL)
  string(APPEND TARGET " (LATENT_EXPECT_FAIL)")
endif()
execute_process(COMMAND ${COMPILER} ${args} ${SOURCE} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(EXPECT STREQUAL "success")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${TARGET} should compile but did not:\n${out}")
  endif()
  message(STATUS "${TARGET} compiled, as it should")
  return()
endif()
if(rc EQUAL 0)
  message(FATAL_ERROR "${TARGET} compiled but should have failed")
endif()
# Count the markers only: diagnostic text may hold ';', which CMake would split lists on.
string(REGEX MATCHALL "error: " errors "${out}")
list(LENGTH errors error_count)
if(NOT error_count EQUAL 1)
  message(FATAL_ERROR "${TARGET}: expected exactly one compiler error, got ${error_count}:\n${out}")
endif()
foreach(pattern ${PATTERNS})
  if(NOT out MATCHES "${pattern}")
    message(FATAL_ERROR "${TARGET}: the error does not match \"${pattern}\":\n${out}")
  endif()
endforeach()
message(STATUS "${TARGET} failed with the expected error")
