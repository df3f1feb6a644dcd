// velin rollback create-version | create-snapshot | list | history | adopt.
#include <array>

#include "backup_inspect.hpp"
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

// A recorded UTC time ("2026-11-25T14:30:05Z") as human output shows times: local, to the
// second (docs/cli.md, "Times"); a text of another shape as it is.
std::string ShownTime(const std::string& utc) {
  const std::optional<int64_t> when = output::ParseUtcTime(utc);
  return when ? output::FormatLocalTime(*when) : utc;
}

// Newest first, in both the table and --json (docs/cli.md#rollback).
void AddList(CLI::App& group, Context& ctx) {
  CLI::App* cmd = AddCommand(group, "list", "List versions and snapshots (newest first)");
  cmd->callback([&ctx] {
    ctx.Execute([&]() -> Status {
      VELIN_ASSIGN(auto engine, MakeRollbackEngine(ctx));
      VELIN_ASSIGN(rollback::ListResult list, engine->List());
      std::vector<rollback::VersionListing> versions(list.versions.rbegin(), list.versions.rend());
      output::Console& out = ctx.out();
      if (out.json()) {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& v : versions) {
          nlohmann::json j = RecordJson(v.record);
          j["seq"] = v.record.seq;
          j["size_bytes"] = v.total_bytes;
          j["own_bytes"] = v.own_bytes;
          j["current"] = v.current;
          j["transaction_base"] = v.transaction_base;
          std::string base_of = v.record.base_of;  // bases of earlier velins: from their name
          if (base_of.empty() && v.record.IsTransactionBase()) base_of = v.record.name.substr(5);
          j["base_of"] = base_of;
          j["failed"] = !v.record.failed.empty();
          j["failed_at"] = v.record.failed;
          arr.push_back(std::move(j));
        }
        out.Json(
            {{"current", list.current}, {"versions", arr}, {"saved_configs", list.saved_configs}});
        return Ok();
      }
      out.Begin(output::Icon::kList, Tr("Available versions:"));
      if (versions.empty()) out.Line("  " + std::string(Tr("(none yet)")));
      std::vector<std::array<std::string, 4>> rows;
      std::array<size_t, 4> width{};
      for (const auto& v : versions) {
        std::string label = v.record.name;
        if (v.record.description == "Base of transaction " + v.record.base_of) {
          label += " - " + TrFormat("Base of transaction {}", v.record.base_of);
        } else if (!v.record.description.empty()) {
          label += " - " + ShownPath(v.record.description);  // a newline would break the table
        }
        std::string size = output::FormatBytes(v.total_bytes) + " (" +
                           TrFormat("{} own", output::FormatBytes(v.own_bytes)) + ")";
        rows.push_back({label, std::string(Tr(rollback::KindName(v.record.kind))),
                        ShownTime(v.record.created), size});
        for (size_t i = 0; i < width.size(); ++i) {
          width[i] = std::max(width[i], output::DisplayWidth(rows.back()[i]));
        }
      }
      for (size_t r = 0; r < rows.size(); ++r) {
        const auto& v = versions[r];
        std::string line = " ";
        for (size_t i = 0; i < width.size(); ++i)
          line += " " + output::PadRight(rows[r][i], width[i]) + " ";
        std::string marks;
        if (v.current)
          marks += std::string("  ") + Arrow(out, true) + " " + std::string(Tr("current"));
        if (v.transaction_base) marks += "  [" + std::string(Tr("transaction base")) + "]";
        // The level a switch back to it migrates down to (docs/rollback.md#schema-levels).
        if (!v.record.schema_level.empty()) {
          marks += "  [" + TrFormat("schema level {}", ShownPath(v.record.schema_level)) + "]";
        }
        if (!v.record.failed.empty()) {
          marks += "  [" + TrFormat("failed {}", ShownTime(v.record.failed)) + "]";
        }
        line += marks;
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out.Line(NoTr(line));  // a row of data and translated words
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
                         {"failed", rollback::FailedHealthCheck(h)},
                         {"transaction", h.transaction},
                         {"detail", h.detail}});
          // The database side (docs/rollback.md#data): only when a backup was taken or restored.
          if (!h.backup.empty()) {
            arr.back()["backup"] = h.backup;
            arr.back()["backup_version"] = h.backup_version;
          }
          if (!h.data.empty()) arr.back()["data"] = h.data;
          // A switch with rollback.migration_status: the schema level it left.
          if (!h.schema_level.empty()) arr.back()["schema_level"] = h.schema_level;
        }
        out.Json({{"history", arr}});
        return Ok();
      }
      if (history.empty()) {
        out.Line(Tr("No history yet: nothing was switched, adopted or pruned"));
        return Ok();
      }
      for (const auto& h : history) {
        // The record holds UTC, which --json prints as it is.
        std::string line =
            ShownTime(h.time) + "  " + h.user + "@" + h.host + "  " + std::string(Tr(h.action));
        if (h.action == "transaction") {
          line += " " + h.transaction + " " + TrFormat("(base {})", h.from);
        } else if (h.action == "prune") {
          line += " " + h.from;
        } else {
          line +=
              " " + (h.from.empty() ? std::string("-") : h.from) + " " + Arrow(out) + " " + h.to;
        }
        if (rollback::FailedHealthCheck(h)) line += " [" + std::string(Tr("failed")) + "]";
        line += ": " + rollback::OutcomeShown(h.outcome);
        if (!h.reason.empty()) line += "  [" + ShownPath(rollback::ReasonShown(h.reason)) + "]";
        if (!h.data.empty()) line += "; " + TrFormat("database: {}", h.data);
        if (!h.schema_level.empty()) {
          line += "  [" + TrFormat("schema level {}", ShownPath(h.schema_level)) + "]";
        }
        out.Line(NoTr(line));  // a row of data and translated words
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
  auto replace = std::make_shared<bool>(false);
  cmd->add_flag("--replace", *replace,
                "Store the live files again under a name an interrupted adopt already took");
  cmd->callback([&ctx, label, replace] {
    ctx.Execute([&]() -> Status {
      VELIN_ASSIGN(auto engine, MakeRollbackEngine(ctx));
      VELIN_ASSIGN(rollback::VersionRecord v, engine->Adopt(*label, *replace));
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
