// velin config check: validates velin.toml and prints the resolved configuration.
#include "velin/cli/context.hpp"
#include "velin/config/describe.hpp"
#include "velin/core/i18n.hpp"
#include "velin/storage/remote_url.hpp"

namespace velin::cli {
namespace {

struct IncludeLink {
  std::string include;
  std::string path;    // relative to app.root
  std::string target;  // the link's text
};

// The symlinks on each include path (the include itself or a directory above it): a backup
// follows them and an in-place restore writes behind them (docs/operations.md).
std::vector<IncludeLink> IncludeLinks(io::Env& env, const config::Config& cfg) {
  std::vector<IncludeLink> links;
  for (const auto& include : cfg.backup.include) {
    if (include == "db" || include.empty() || include[0] == '/') continue;
    for (size_t start = 0; start <= include.size();) {
      size_t slash = include.find('/', start);
      if (slash == std::string::npos) slash = include.size();
      std::string at = include.substr(0, slash);
      start = slash + 1;
      std::string abs = io::JoinPath(cfg.app.root, at);
      auto info = env.Stat(abs);
      if (!info) break;  // missing: backup create names it
      if (info->type != io::FileType::kSymlink) continue;
      auto text = env.ReadLink(abs);
      if (text) links.push_back({include, at, *text});
    }
  }
  return links;
}

}  // namespace

void RegisterConfigCommands(CLI::App& app, Context& ctx) {
  CLI::App* group = AddCommand(app, "config", "Check the configuration");
  group->require_subcommand(1);
  CLI::App* check =
      AddCommand(*group, "check", "Validate velin.toml and print the resolved config");
  check->callback([&ctx] {
    ctx.Execute([&ctx]() -> Status {
      VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
      // The check `backup create` makes when it opens the repository, made here too.
      for (const std::string* where : {&cfg->backup.destination, &cfg->backup.offsite}) {
        VELIN_TRY(
            storage::CheckCleartextTransport(*where, cfg->s3.endpoint, cfg->backup.allow_insecure));
      }
      output::Console& out = ctx.out();
      std::vector<IncludeLink> links = IncludeLinks(ctx.env(), *cfg);
      if (out.json()) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& l : links) {
          list.push_back({{"include", l.include}, {"path", l.path}, {"target", l.target}});
        }
        out.Json({{"file", cfg->file},
                  {"valid", true},
                  {"config", config::ConfigToJson(*cfg)},
                  {"include_links", list}});
        return Ok();
      }
      out.Done(TrFormat("Configuration {} is valid", cfg->file));
      for (const auto& l : links) {
        out.Info(
            TrFormat("backup.include '{}': {} is a symlink to {}; backups follow it and an "
                     "in-place restore writes behind it",
                     l.include, l.path, l.target));
      }
      if (!ctx.global.quiet) {
        for (const auto& [key, value] : config::ConfigToLines(*cfg)) {
          out.Line(NoTr("  " + key + " = " + value));  // config keys and values
        }
      }
      return Ok();
    });
  });
}

}  // namespace velin::cli
