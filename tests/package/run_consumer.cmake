# cmake -P: installs latent into a fresh prefix (find_package mode) or points the consumer at
# the source tree (add_subdirectory mode), then configures, builds and runs the consumer.
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed: ${ARGN}\n${out}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

set(consumer ${SOURCE_DIR}/tests/package/consumer)
if(MODE STREQUAL "find_package")
  run(${CMAKE_COMMAND} --install ${LATENT_BUILD_DIR} --prefix ${WORK_DIR}/prefix)
  run(${CMAKE_COMMAND} -S ${consumer} -B ${WORK_DIR}/build -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Debug
      -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DLATENT_CONSUMER_MODE=find_package)
else()
  run(${CMAKE_COMMAND} -S ${consumer} -B ${WORK_DIR}/build -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Debug
      -DLATENT_SOURCE_DIR=${SOURCE_DIR} -DLATENT_CONSUMER_MODE=add_subdirectory)
  # latent's own tests and examples must not be built when it is not the top-level project.
  if(EXISTS ${WORK_DIR}/build/latent/tests)
    message(FATAL_ERROR "add_subdirectory(latent) configured latent's tests")
  endif()
endif()
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build -j2)
run(${WORK_DIR}/build/consumer)
if(NOT last_output MATCHES "consumer: 3 outputs, 9 params")
  message(FATAL_ERROR "unexpected consumer output: ${last_output}")
endif()
if(EXISTS ${WORK_DIR}/build/consumer_interop)
  run(${WORK_DIR}/build/consumer_interop)
endif()
message(STATUS "${MODE} consumer built and ran: ${last_output}")
