# Shared compile settings for the runtime's own executables (tests, tools, bench).
# Consumers of hft::runtime never see these: they only get what the INTERFACE
# target carries.

set(HFT_SANITIZE "" CACHE STRING "Sanitizers for tests/tools/bench: empty, address,undefined or thread")
set_property(CACHE HFT_SANITIZE PROPERTY STRINGS "" "address,undefined" "thread")

if(HFT_SANITIZE STREQUAL "")
  set(_hft_sanitize_flags "")
elseif(HFT_SANITIZE STREQUAL "address,undefined" OR HFT_SANITIZE STREQUAL "undefined,address")
  # UBSan findings abort instead of printing and carrying on, so ctest sees them.
  set(_hft_sanitize_flags -fsanitize=address,undefined -fno-sanitize-recover=all
                          -fno-omit-frame-pointer)
elseif(HFT_SANITIZE STREQUAL "thread")
  set(_hft_sanitize_flags -fsanitize=thread -fno-omit-frame-pointer)
else()
  message(FATAL_ERROR "HFT_SANITIZE must be empty, 'address,undefined' or 'thread' "
                      "(got '${HFT_SANITIZE}')")
endif()

# hft_target_defaults(<target>): warnings as errors plus the selected sanitizers.
function(hft_target_defaults target)
  target_link_libraries(${target} PRIVATE hft::runtime)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror)
  endif()
  if(_hft_sanitize_flags)
    target_compile_options(${target} PRIVATE ${_hft_sanitize_flags})
    target_link_options(${target} PRIVATE ${_hft_sanitize_flags})
  endif()
endfunction()
