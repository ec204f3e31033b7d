#include "cli/suggest_cmd.hpp"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "droplog/collector.hpp"
#include "droplog/source.hpp"
#include "droplog/suggest.hpp"
#include "droplog/views.hpp"
#include "util/file.hpp"
#include "util/json.hpp"

namespace netpol::cli {
namespace {

// A drop summary is one JSON object with "rows" (pretty-printed: its first line is "{");
// anything else is read as flow lines. Only a regular file can be a summary, and only its
// first 64 KiB are looked at: a FIFO (a live `hubble observe`) or /dev/zero is streamed.
bool looks_like_summary(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  std::ifstream in(path, std::ios::binary);
  std::string head(64 * 1024, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  std::istringstream lines(head);
  std::string first;
  while (std::getline(lines, first)) {
    const auto start = first.find_first_not_of(" \t\r");
    if (start == std::string::npos) continue;
    first = first.substr(start);
    while (!first.empty() && (first.back() == ' ' || first.back() == '\r'))
      first.pop_back();
    if (first == "{") return true;
    const auto j = nlohmann::json::parse(first, nullptr, false);
    return j.is_object() && j.contains("rows");
  }
  return false;
}

Result<droplog::DropRows> read_rows(const std::string& path, Context& ctx) {
  if (path != "-" && looks_like_summary(path)) {
    auto text = read_input_file(path, ErrorCode::usage);
    if (!text) return fail(text.error());
    const auto j = parse_json_strict(*text, path, ErrorCode::usage);
    if (!j) return fail(j.error());
    auto summary = droplog::summary_from_json(*j, path);
    if (!summary) return fail(summary.error());
    return std::move(summary->rows);
  }
  droplog::DropCollector collector(droplog::DropFilter{});
  droplog::FileSource source(path);
  auto read = source.read([&](std::string_view line) { collector.add_line(line); });
  if (!read) return fail(read.error());
  if (collector.counts().lines_malformed != 0) {
    ctx.reporter().warn(fmt::format("{} malformed line(s) in {} were skipped",
                                    collector.counts().lines_malformed, read->description));
  }
  return collector.take_rows();
}

Result<int> run_suggest(const po::variables_map& args, Context& ctx) {
  if (!args.count("from-file")) {
    return fail(ErrorCode::usage, "suggest needs --from-file PATH (drop-log.jsonl, a Hubble "
                                  "export or drop-summary.json)");
  }
  const auto path = args["from-file"].as<std::string>();
  auto rows = read_rows(path, ctx);
  if (!rows) return fail(rows.error());
  std::vector<std::string> namespaces;
  if (!args["all-namespaces"].as<bool>() && !ctx.global().namespace_name.empty()) {
    namespaces = {ctx.global().namespace_name};
  }
  const auto suggestion = droplog::suggest_policies(*rows, namespaces);
  const auto yaml = droplog::suggestion_to_yaml(suggestion);
  auto written = ctx.output().write("suggested-policy.yaml", yaml);
  if (!written) return fail(written.error());
  for (const auto& note : suggestion.notes)
    ctx.reporter().warn("not allowed: " + note);
  ctx.reporter().info(fmt::format("{} policies from {} rows written to {}",
                                  suggestion.policies.size(), rows->size(), written->string()));
  ctx.out() << yaml;
  return 0;
}

void describe(po::options_description& options, po::positional_options_description&) {
  // clang-format off
  options.add_options()
    ("from-file", po::value<std::string>()->value_name("PATH|-"),
     "drop-log.jsonl, a Hubble export, `hubble observe -o jsonpb` output, or drop-summary.json")
    ("all-namespaces,A", po::bool_switch(),
     "suggest policies for every namespace (the default unless -n or KUBE_NAMESPACE is set)");
  // clang-format on
}

} // namespace

Command suggest_command() {
  return Command{
      .name = "suggest",
      .summary = "write NetworkPolicies that would allow the flows of a drop log",
      .usage = "suggest --from-file PATH|- [-n NS | -A]",
      .help = "Reads dropped and audited flows (drop-log.jsonl, a Hubble export, or the rows\n"
              "of drop-summary.json) and writes suggested-policy.yaml: per workload and\n"
              "direction one NetworkPolicy that allows exactly the observed peers on the\n"
              "observed ports. Flows a NetworkPolicy cannot express (ICMP, pods without\n"
              "labels in the log) are listed as comments. Needs no cluster.\n\n"
              "Examples:\n"
              "  netpol suggest --from-file netpol-report/drop-log.jsonl -n shop\n"
              "  netpol suggest --from-file netpol-report/drop-summary.json",
      .needs_cluster = false,
      .describe = describe,
      .env = {},
      .run = run_suggest,
  };
}

} // namespace netpol::cli
