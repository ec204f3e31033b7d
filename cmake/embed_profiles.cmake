# Generates a C++ source holding every profiles/*.yaml as a raw string literal, so the YAML
# files users read are the one source of truth for what the binary applies.
# Usage: cmake -DOUTPUT=<file.cpp> -DPROFILES="<a.yaml;b.yaml>" -P embed_profiles.cmake
set(body "")
foreach(path IN LISTS PROFILES)
  get_filename_component(name "${path}" NAME_WE)
  file(READ "${path}" text)
  string(FIND "${text}" ")netpol_profile\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${path} contains the raw-string delimiter")
  endif()
  string(APPEND body "    {\"${name}\", R\"netpol_profile(${text})netpol_profile\"},\n")
endforeach()
file(WRITE "${OUTPUT}.tmp"
"// Generated from profiles/*.yaml by cmake/embed_profiles.cmake. Do not edit.
#include \"policy/profiles.hpp\"

namespace netpol::policy {

std::span<const EmbeddedProfile> embedded_profiles() {
  static const EmbeddedProfile profiles[] = {
${body}  };
  return profiles;
}

} // namespace netpol::policy
")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
