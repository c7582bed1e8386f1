# libFuzzer targets for the parsers.
#
# llmtap_fuzz_target(<name> SOURCES <file...> LIBS <target...> [SEEDS <dir>])
#
# With LLMTAP_FUZZ=ON (clang only; scripts/fuzz.sh configures it) the target is a libFuzzer
# binary built with ASan and UBSan, and is listed in <build>/fuzz_targets.txt for the script.
# Otherwise it is a plain program that replays the files named on its command line (or the
# files in the directories named there) through the same entry point; with SEEDS that replay
# is a test, so the targets always compile and their seed inputs always pass.
function(llmtap_fuzz_target name)
  cmake_parse_arguments(F "" "SEEDS" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${F_SOURCES})
  target_link_libraries(${name} PRIVATE ${F_LIBS})
  if(LLMTAP_FUZZ)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    file(APPEND ${CMAKE_BINARY_DIR}/fuzz_targets.txt "${name} ${CMAKE_CURRENT_BINARY_DIR}/${name} ${F_SEEDS}\n")
  else()
    target_sources(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests/support/fuzz_replay_main.cpp)
    if(F_SEEDS)
      add_test(NAME ${name}_seeds COMMAND ${name} ${F_SEEDS})
    else()
      add_test(NAME ${name}_smoke COMMAND ${name})
    endif()
  endif()
endfunction()
