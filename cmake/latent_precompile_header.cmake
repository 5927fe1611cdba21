# latent_precompile_header(NAME OUTPUT COMPILER FLAGS...): the custom target NAME precompiles
# <latent/latent.hpp> into OUTPUT with COMPILER and FLAGS, again whenever a header it read
# changed. For the tests that run a compiler themselves on files that start by including it
# (compile-fail, compile.clang.*): they then spend a second or two each instead of five or six
# parsing the library. Made from a one-line wrapper: GCC warns of '#pragma once in main file'
# when it is given the header itself.
function(latent_precompile_header name output compiler)
  set(source ${CMAKE_CURRENT_BINARY_DIR}/${name}_source.hpp)
  file(CONFIGURE OUTPUT ${source} CONTENT "#include <latent/latent.hpp>\n")
  get_filename_component(dir ${output} DIRECTORY)
  add_custom_command(OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${dir}
    COMMAND ${compiler} ${ARGN} -x c++-header ${source} -o ${output} -MD -MF ${output}.d -MT ${output}
    DEPFILE ${output}.d
    COMMENT "Precompiling latent/latent.hpp (${name})"
    VERBATIM)
  add_custom_target(${name} ALL DEPENDS ${output})
endfunction()
