// The drop log's files (SPEC §5, §8.1): drop-summary.json, drop-log.txt, drop-log.html,
// junit-drops.xml, all built from the same rows, a view each.
#pragma once

#include "droplog/drop_summary.hpp"
#include "droplog/html_view.hpp"
#include "droplog/junit_view.hpp"
#include "droplog/summary_json.hpp"
#include "droplog/text_view.hpp"
