# Builds one target and checks the outcome (cmake -P): EXPECT=success must compile; EXPECT=failure
# must fail with exactly one compiler error, and the output must match every pattern in PATTERNS
# (separated by "|||"). Used by tests/compile_fail.
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
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
string(REPLACE "|||" ";" patterns "${PATTERNS}")
foreach(pattern ${patterns})
  if(NOT out MATCHES "${pattern}")
    message(FATAL_ERROR "${TARGET}: the error does not match \"${pattern}\":\n${out}")
  endif()
endforeach()
message(STATUS "${TARGET} failed with the expected error")
