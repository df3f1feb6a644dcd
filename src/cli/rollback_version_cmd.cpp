// velin rollback create-version | create-snapshot | list | history | adopt.
#include "rollback_common.hpp"
#include "velin/core/i18n.hpp"
#include "velin/rollback/registry.hpp"

namespace velin::cli {
namespace {

nlohmann::json RecordJson(const rollback::VersionRecord& v) {
  return {{"name", v.name},
          {"description", v.description},
          {"kind", rollback::KindName(v.kind)},
          {"created", v.created},
          {"user", v.user},
          {"host", v.host},
          {"source_digest", v.source_digest},
          {"config_digest", v.config_digest},
          {"schema_level", v.schema_level}};
}

void AddCreate(CLI::App& group, Context& ctx, const std::string& name, rollback::VersionKind kind,
               const std::string& help) {
  CLI::App* cmd = AddCommand(group, name, help);
  auto label = std::make_shared<std::string>();
  auto replace = std::make_shared<bool>(false);
  cmd->add_option("label", *label, "\"NAME - description\"")->required();
  cmd->add_flag("--replace", *replace, "Overwrite a version of the same name");
  cmd->callback([&ctx, label, replace, kind] {
    ctx.Execute([&]() -> Status {
      VELIN_ASSIGN(auto engine, MakeRollbackEngine(ctx));
      VELIN_ASSIGN(rollback::VersionRecord v, engine->CreateVersion(*label, kind, *replace));
      if (ctx.out().json()) {
        ctx.out().Json(RecordJson(v));
      } else {
        ctx.out().Done(TrFormat(
            kind == rollback::VersionKind::kSnapshot ? "Snapshot {} created" : "Version {} created",
            v.name));
      }
      return Ok();
    });
  });
}

void AddList(CLI::App& group, Context& ctx) {
  CLI::App* cmd = AddCommand(group, "list", "List versions and snapshots");
  cmd->callback([&ctx] {
    ctx.Execute([&]() -> Status {
      VELIN_ASSIGN(auto engine, MakeRollbackEngine(ctx));
      VELIN_ASSIGN(rollback::ListResult list, engine->List());
      output::Console& out = ctx.out();
      if (out.json()) {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& v : list.versions) {
          nlohmann::json j = RecordJson(v.record);
          j["size_bytes"] = v.total_bytes;
          j["own_bytes"] = v.own_bytes;
          j["current"] = v.current;
          j["transaction_base"] = v.transaction_base;
          arr.push_back(std::move(j));
        }
        out.Json(
            {{"current", list.current}, {"versions", arr}, {"saved_configs", list.saved_configs}});
        return Ok();
      }
      out.Begin(output::Icon::kList, Tr("Available versions:"));
      if (list.versions.empty()) out.Line("  " + std::string(Tr("(none yet)")));
      for (auto it = list.versions.rbegin(); it != list.versions.rend(); ++it) {
        const auto& v = *it;
        std::string label = v.record.name;
        if (!v.record.description.empty()) label += " - " + v.record.description;
        if (label.size() < 32) label.resize(32, ' ');
        std::string line = "  " + label + "  " + rollback::KindName(v.record.kind) + "  " +
                           v.record.created + "  " + output::FormatBytes(v.total_bytes) + " (" +
                           output::FormatBytes(v.own_bytes) + " own)";
        if (v.current) line += "  ← " + std::string(Tr("current"));
        if (v.transaction_base) line += "  [" + std::string(Tr("transaction base")) + "]";
        out.Line(line);
      }
      for (const auto& saved : list.saved_configs) {
        out.Line(TrFormat("Saved live configuration: {}", saved));
      }
      return Ok();
    });
  });
}

void AddHistory(CLI::App& group, Context& ctx) {
  CLI::App* cmd = AddCommand(group, "history", "Show every switch and transaction outcome");
  cmd->callback([&ctx] {
    ctx.Execute([&]() -> Status {
      VELIN_ASSIGN(auto engine, MakeRollbackEngine(ctx));
      VELIN_ASSIGN(auto history, engine->History());
      output::Console& out = ctx.out();
      if (out.json()) {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& h : history) {
          arr.push_back({{"time", h.time},
                         {"user", h.user},
                         {"host", h.host},
                         {"action", h.action},
                         {"from", h.from},
                         {"to", h.to},
                         {"reason", h.reason},
                         {"outcome", h.outcome},
                         {"transaction", h.transaction},
                         {"detail", h.detail}});
        }
        out.Json({{"history", arr}});
        return Ok();
      }
      for (const auto& h : history) {
        std::string line = h.time + "  " + h.user + "@" + h.host + "  " + h.action;
        if (h.action == "transaction") {
          line += " " + h.transaction + " (base " + h.from + ")";
        } else {
          line += " " + (h.from.empty() ? std::string("-") : h.from) + " → " + h.to;
        }
        line += ": " + h.outcome;
        if (!h.reason.empty()) line += "  [" + h.reason + "]";
        out.Line(line);
      }
      return Ok();
    });
  });
}

void AddAdopt(CLI::App& group, Context& ctx) {
  CLI::App* cmd =
      AddCommand(group, "adopt", "Take over an application deployed as plain files (first time)");
  auto label = std::make_shared<std::string>();
  cmd->add_option("label", *label, "\"NAME - description\" of the first snapshot");
  cmd->callback([&ctx, label] {
    ctx.Execute([&]() -> Status {
      VELIN_ASSIGN(auto engine, MakeRollbackEngine(ctx));
      VELIN_ASSIGN(rollback::VersionRecord v, engine->Adopt(*label));
      if (ctx.out().json()) {
        ctx.out().Json(RecordJson(v));
      } else {
        ctx.out().Done(TrFormat("Adopted as {}", v.name));
      }
      return Ok();
    });
  });
}

}  // namespace

void RegisterRollbackVersionCommands(CLI::App& group, Context& ctx) {
  AddCreate(group, ctx, "create-version", rollback::VersionKind::kVersion,
            "Keep the configured artifacts as a version: \"NAME - description\"");
  AddCreate(group, ctx, "create-snapshot", rollback::VersionKind::kSnapshot,
            "A version plus the configured config files");
  AddList(group, ctx);
  AddHistory(group, ctx);
  AddAdopt(group, ctx);
}

}  // namespace velin::cli
