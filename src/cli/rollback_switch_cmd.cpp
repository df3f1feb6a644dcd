// velin rollback to-version NAME: stop, switch `current`, start, health check (exit 5 when the
// check failed and the switch was undone).
#include "rollback_common.hpp"

namespace velin::cli {

void RegisterRollbackSwitchCommands(CLI::App& group, Context& ctx) {
  CLI::App* cmd = AddCommand(group, "to-version", "Switch the application to a version");
  auto name = std::make_shared<std::string>();
  auto reason = std::make_shared<std::string>();
  cmd->add_option("name", *name, "Version or snapshot name")->required();
  cmd->add_option("--reason", *reason, "Why (kept in the history)");
  cmd->callback([&ctx, name, reason] {
    ctx.Execute([&]() -> Status {
      VELIN_ASSIGN(auto engine, MakeRollbackEngine(ctx));
      Status s = engine->ToVersion(*name, *reason);
      if (ctx.out().json()) {
        VELIN_ASSIGN(auto st, engine->Inspect());
        if (s) ctx.out().Json({{"switched", true}, {"current", st.current}});
      }
      return s;
    });
  });
}

}  // namespace velin::cli
