// JSON input netpol did not write itself (a drop-summary.json handed back to `suggest`, a
// provider.json given to `apply --provider-file`, an exec credential plugin's output), read
// strictly: a key repeated in one object is an error, as YAML input's is (util/yaml), instead
// of nlohmann's silent last-wins, which would act on a value other than the one a reviewer
// read first.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "util/error.hpp"

namespace netpol {

// Parses one JSON text. Failures are `code` errors naming `source` and a line, never a value
// from the text (it may hold a token):
//   "<source>:<line>: duplicate key \"<key>\" (also at line <n>): remove one of them"
//   "<source>:<line>:<column>: not valid JSON"
// The key is shown with control characters escaped (log::printable).
Result<nlohmann::json> parse_json_strict(std::string_view text, const std::string& source,
                                         ErrorCode code);

} // namespace netpol
