// velin config check: validates velin.toml and prints the resolved configuration.
#include "velin/cli/context.hpp"
#include "velin/config/describe.hpp"
#include "velin/core/i18n.hpp"
#include "velin/storage/remote_url.hpp"

namespace velin::cli {

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
      if (out.json()) {
        out.Json({{"file", cfg->file}, {"valid", true}, {"config", config::ConfigToJson(*cfg)}});
        return Ok();
      }
      out.Done(TrFormat("Configuration {} is valid", cfg->file));
      if (!ctx.global.quiet) {
        for (const auto& [key, value] : config::ConfigToLines(*cfg)) {
          out.Line("  " + key + " = " + value);
        }
      }
      return Ok();
    });
  });
}

}  // namespace velin::cli
