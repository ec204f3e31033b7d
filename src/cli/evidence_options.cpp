#include "cli/evidence_options.hpp"

#include <sstream>
#include <string>

#include <fmt/format.h>

#include "droplog/evidence.hpp"

namespace netpol::cli {

void describe_evidence_options(po::options_description& options) {
  // clang-format off
  options.add_options()
    ("flows", po::value<std::vector<std::string>>()->multitoken()->value_name("FILE..."),
     "traffic seen, to check the change against: Hubble exporter lines, `hubble observe -o "
     "jsonpb`, drop-summary.json or flows-summary.json; newly denied connections seen in it "
     "come first (\"will break\") [NETPOL_FLOWS, comma-separated]")
    ("fail-on-breaking", po::value<std::string>()->value_name("BOOL")->implicit_value("true"),
     "exit 4, before anything is applied, when the change newly denies a connection seen in "
     "--flows [NETWORK_POLICY_FAIL_ON_BREAKING; default false]");
  // clang-format on
}

std::vector<EnvBinding> evidence_env() {
  return {{"flows", "NETPOL_FLOWS"}, {"fail-on-breaking", "NETWORK_POLICY_FAIL_ON_BREAKING"}};
}

Result<EvidenceOptions> read_evidence_options(const po::variables_map& args, Context& ctx) {
  EvidenceOptions o;
  if (args.count("fail-on-breaking")) {
    auto b = parse_bool(args["fail-on-breaking"].as<std::string>(),
                        "--fail-on-breaking/NETWORK_POLICY_FAIL_ON_BREAKING");
    if (!b) return fail(b.error());
    o.fail_on_breaking = *b;
  }
  std::vector<std::string> paths;
  if (args.count("flows")) {
    // NETPOL_FLOWS arrives as one value: "a.jsonl,b.json".
    for (const auto& value : args["flows"].as<std::vector<std::string>>()) {
      std::stringstream parts(value);
      std::string path;
      while (std::getline(parts, path, ','))
        if (!path.empty()) paths.push_back(path);
    }
  }
  if (paths.empty()) {
    if (o.fail_on_breaking) {
      return fail(ErrorCode::usage,
                  "--fail-on-breaking needs --flows FILE... (NETPOL_FLOWS): the traffic seen, "
                  "to tell which newly denied connections are used");
    }
    return o;
  }
  auto phase = ctx.reporter().phase("Reading the traffic seen (--flows)");
  auto evidence = droplog::read_evidence(paths);
  if (!evidence) {
    phase.failed(evidence.error().message);
    return fail(evidence.error());
  }
  phase.done(fmt::format(
      "{} connections from {} flows{}", evidence->connections.size(), evidence->flows_read,
      evidence->since.empty() ? std::string()
                              : fmt::format(", {} to {}", evidence->since, evidence->until)));
  o.evidence = std::make_shared<const model::FlowEvidence>(std::move(*evidence));
  return o;
}

} // namespace netpol::cli
