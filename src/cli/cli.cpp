#include "cli/cli.hpp"

#include <algorithm>
#include <exception>
#include <sstream>

#include <fmt/format.h>

#include "cli/command.hpp"
#include "util/log.hpp"

namespace netpol::cli {
namespace {

const std::vector<EnvBinding> k_global_env = {
    {"kubeconfig", "KUBECONFIG"},      {"context", "KUBE_CONTEXT"},
    {"namespace", "KUBE_NAMESPACE"},   {"output-dir", "NETPOL_OUTPUT_DIR"},
    {"log-level", "NETPOL_LOG_LEVEL"},
};

// Global options that take a value, so the dispatcher can find the subcommand name among
// arguments such as `--kubeconfig x detect`.
const std::vector<std::string> k_valued_globals = {"--kubeconfig", "--context",        "-n",
                                                   "--namespace",  "--output-dir",     "--format",
                                                   "--log-level",  "--request-timeout"};

po::options_description global_options() {
  po::options_description desc("Global options", k_help_width, k_help_width / 2);
  // clang-format off
  desc.add_options()
    ("kubeconfig", po::value<std::string>()->value_name("PATH[:PATH...]"),
     "kubeconfig file(s), merged like kubectl [KUBECONFIG; else ~/.kube/config; else in-cluster]")
    ("context", po::value<std::string>()->value_name("NAME"),
     "kubeconfig context [KUBE_CONTEXT; else current-context; else the only context]")
    ("namespace,n", po::value<std::string>()->value_name("NS"),
     "namespace [KUBE_NAMESPACE; else the context's namespace; else default]")
    ("output-dir", po::value<std::string>()->value_name("DIR"),
     "where report files are written [NETPOL_OUTPUT_DIR; default netpol-report]")
    ("format", po::value<std::string>()->value_name("text|json")->default_value("text"),
     "format of results on stdout")
    ("log-level", po::value<std::string>()->value_name("LEVEL"),
     "diagnostics on stderr: error, warn, info, debug, trace [NETPOL_LOG_LEVEL; default warn]")
    ("request-timeout", po::value<std::string>()->value_name("DURATION"),
     "one API request, e.g. 1m; log streams: the longest wait for data (default 30s; 0: no limit)")
    ("no-color", po::bool_switch(), "no colour in progress output [NO_COLOR]")
    ("quiet,q", po::bool_switch(), "no progress output; warnings and errors only")
    ("help,h", po::bool_switch(), "show help (for a subcommand: netpol SUBCOMMAND --help)")
    ("version", po::bool_switch(), "print the version and exit");
  // clang-format on
  return desc;
}

const Command* find_command(const std::string& name) {
  for (const auto& c : commands()) {
    if (name == c.name) {
      return &c;
    }
  }
  return nullptr;
}

void print_main_help(std::ostream& out) {
  out << "netpol — NetworkPolicy for GitLab pipelines: detect the provider, install Cilium,\n"
         "apply policies safely, and report what was (or would have been) dropped.\n\n"
         "Usage: netpol [global options] SUBCOMMAND [options]\n\nSubcommands:\n";
  size_t width = 0;
  for (const auto& c : commands()) {
    width = std::max(width, std::string_view(c.name).size());
  }
  for (const auto& c : commands()) {
    out << fmt::format("  {:<{}}  {}\n", c.name, width, c.summary);
  }
  out << "\n"
      << global_options() << "\n"
      << "Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error,\n"
         "3 invalid policies (nothing applied), 4 a requested check failed.\n"
         "Run 'netpol SUBCOMMAND --help' for a subcommand's options and examples.\n";
}

void print_command_help(std::ostream& out, const Command& cmd) {
  out << "Usage: netpol " << cmd.usage << "\n\n" << cmd.summary << "\n";
  if (cmd.help != nullptr && *cmd.help != '\0') {
    out << "\n" << cmd.help << "\n";
  }
  po::options_description own(fmt::format("Options of '{}'", cmd.name), k_help_width,
                              k_help_width / 2);
  po::positional_options_description positional;
  if (cmd.describe != nullptr) {
    cmd.describe(own, positional);
  }
  if (!own.options().empty()) {
    out << "\n" << own;
  }
  if (!cmd.env.empty()) {
    out << "\nEnvironment (a flag wins over its variable):\n";
    for (const auto& b : cmd.env) {
      out << fmt::format("  {:<36} --{}\n", b.variable, b.option);
    }
  }
  out << "\n" << global_options();
}

// Index of the subcommand name in args, or npos.
size_t find_command_index(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "--") {
      return std::string::npos;
    }
    if (!a.empty() && a[0] == '-') {
      if (std::find(k_valued_globals.begin(), k_valued_globals.end(), a) !=
          k_valued_globals.end()) {
        ++i; // skip the option's value
      }
      continue;
    }
    return i;
  }
  return std::string::npos;
}

// Stores environment fallbacks for options not given on the command line.
void store_environment(const std::vector<EnvBinding>& bindings, const po::options_description& desc,
                       const Environment& env, po::variables_map& vm) {
  po::parsed_options parsed(&desc);
  for (const auto& b : bindings) {
    if (vm.count(b.option) != 0 && !vm[b.option].defaulted()) {
      continue;
    }
    if (auto value = env.get(b.variable); value.has_value() && !value->empty()) {
      po::option opt(b.option, {*value});
      opt.original_tokens = {std::string(b.variable) + "=" + *value};
      parsed.options.push_back(std::move(opt));
    }
  }
  po::store(parsed, vm);
}

std::vector<std::string> split_paths(const std::string& joined) {
  std::vector<std::string> out;
  std::stringstream ss(joined);
  std::string part;
  while (std::getline(ss, part, ':')) {
    if (!part.empty()) {
      out.push_back(part);
    }
  }
  return out;
}

Result<GlobalOptions> read_globals(const po::variables_map& vm, const Environment& env) {
  GlobalOptions g;
  if (vm.count("kubeconfig")) g.kubeconfig_paths = split_paths(vm["kubeconfig"].as<std::string>());
  if (vm.count("context")) g.context = vm["context"].as<std::string>();
  if (vm.count("namespace")) g.namespace_name = vm["namespace"].as<std::string>();
  if (vm.count("output-dir")) g.output_dir = vm["output-dir"].as<std::string>();
  const auto format = vm["format"].as<std::string>();
  if (format == "json") {
    g.format = OutputFormat::json;
  } else if (format != "text") {
    return fail(ErrorCode::usage, "invalid --format '" + format + "': use text or json");
  }
  if (vm.count("log-level")) {
    auto level = log::parse_level(vm["log-level"].as<std::string>());
    if (!level) return fail(level.error());
    g.log_level = *level;
  }
  if (vm.count("request-timeout")) {
    auto timeout = parse_duration(vm["request-timeout"].as<std::string>(), "--request-timeout");
    if (!timeout) return fail(timeout.error());
    g.request_timeout = *timeout;
  }
  // NO_COLOR: any non-empty value disables colour (no-color.org).
  auto no_color = env.get("NO_COLOR");
  g.color = !vm["no-color"].as<bool>() && !(no_color && !no_color->empty());
  g.quiet = vm["quiet"].as<bool>();
  return g;
}

int report_error(std::ostream& err, const Error& error) {
  // An error may quote a name from a file or the cluster: no terminal sequence gets through.
  err << log::printable(log::redact(format_error(error)), /*keep_newlines=*/true);
  // A message that already points at a subcommand's help needs no second hint.
  if (error.code == ErrorCode::usage && error.message.find("--help") == std::string::npos) {
    err << "Run 'netpol --help' for usage.\n";
  }
  return exit_code(error.code);
}

int run_parsed(const std::vector<std::string>& args, Io io) {
  const size_t index = find_command_index(args);
  const Command* cmd = nullptr;
  std::vector<std::string> rest = args;
  if (index != std::string::npos) {
    if (args[index] == "help") {
      // `netpol help [SUBCOMMAND]`
      const Command* topic = index + 1 < args.size() ? find_command(args[index + 1]) : nullptr;
      topic ? print_command_help(io.out, *topic) : print_main_help(io.out);
      return 0;
    }
    cmd = find_command(args[index]);
    if (cmd == nullptr) {
      return report_error(io.err,
                          Error(ErrorCode::usage, "unknown subcommand '" + args[index] + "'"));
    }
    rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(index));
  }

  po::options_description all = global_options();
  po::options_description own(cmd ? fmt::format("Options of '{}'", cmd->name) : "");
  po::positional_options_description positional;
  if (cmd != nullptr && cmd->describe != nullptr) {
    cmd->describe(own, positional);
    all.add(own);
  }

  po::variables_map vm;
  try {
    po::store(po::command_line_parser(rest).options(all).positional(positional).run(), vm);
    store_environment(k_global_env, all, io.env, vm);
    if (cmd != nullptr) {
      store_environment(cmd->env, all, io.env, vm);
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::string where = cmd ? fmt::format(" (see 'netpol {} --help')", cmd->name) : "";
    return report_error(io.err, Error(ErrorCode::usage, std::string(e.what()) + where));
  }

  if (vm["help"].as<bool>()) {
    cmd ? print_command_help(io.out, *cmd) : print_main_help(io.out);
    return 0;
  }
  if (vm["version"].as<bool>() && cmd == nullptr) {
    cmd = find_command("version");
  }
  if (cmd == nullptr) {
    print_main_help(io.err);
    return 2;
  }

  auto globals = read_globals(vm, io.env);
  if (!globals) {
    return report_error(io.err, globals.error());
  }
  log::configure(io.err, globals->log_level);
  Context ctx(std::move(*globals), io, cmd->name);
  auto result = run_command(*cmd, vm, ctx);
  if (!result) return report_error(io.err, result.error());
  return *result;
}

} // namespace

Result<int> run_command(const Command& command, const po::variables_map& args, Context& ctx) {
  Result<int> result = 0;
  try {
    result = command.run(args, ctx);
  } catch (const std::exception& e) {
    // A bug, or memory exhausted: the reports still say what happened.
    result = fail(ErrorCode::internal, std::string("internal error: ") + e.what());
  }
  ctx.log_traffic();
  // SPEC §5: the reports are written on every way out, the failure recorded in them.
  auto written = ctx.reports().finish(result ? nullptr : &result.error());
  if (!written) {
    if (!result) {
      ctx.reporter().warn("reports not written: " + written.error().message);
    } else {
      return fail(written.error());
    }
  }
  return result;
}

Result<bool> parse_bool(const std::string& text, const std::string& what) {
  std::string v;
  for (char c : text)
    v += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off" || v.empty()) return false;
  return fail(ErrorCode::usage, what + ": invalid boolean '" + text + "': use true or false");
}

int run(const std::vector<std::string>& args, Io io) {
  // Every byte of stdout and stderr passes the redaction pass (util/log), whoever writes it:
  // results, the reporter's phases and warnings, errors, and the diagnostics.
  log::register_secret_variables(io.env);
  log::RedactingStreambuf out_buffer(io.out);
  log::RedactingStreambuf err_buffer(io.err);
  std::ostream out(&out_buffer);
  std::ostream err(&err_buffer);
  const Io redacted{out, err, io.env, io.err_is_tty};
  int code = 0;
  try {
    code = run_parsed(args, redacted);
  } catch (const std::bad_alloc&) {
    code = report_error(
        err, Error(ErrorCode::internal, "out of memory (an input larger than netpol's limits?)"));
  } catch (const std::exception& e) {
    code =
        report_error(err, Error(ErrorCode::internal, std::string("internal error: ") + e.what()));
  }
  // The redacting streams end here: later diagnostics go straight to the caller's stream,
  // still through the redacting log sink.
  log::configure(io.err, spdlog::get_level());
  out.flush();
  err.flush();
  return code;
}

} // namespace netpol::cli
