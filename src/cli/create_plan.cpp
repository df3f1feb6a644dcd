#include "velin/cli/create_plan.hpp"

#include "velin/core/i18n.hpp"
#include "velin/version.hpp"

namespace velin::cli {

Result<CreatePlan> PlanCreate(const config::Config& cfg, const std::string& strategy_flag,
                              bool dry_run) {
  CreatePlan plan;
  const std::string strategy = strategy_flag.empty() ? cfg.backup.strategy : strategy_flag;
  const auto parsed_strategy = repo::ParseStrategy(strategy);
  if (!parsed_strategy) {
    return UsageError(TrFormat("--strategy '{}' must be full or incremental", strategy));
  }
  VELIN_ASSIGN(repo::Codec codec, repo::ParseCodec(cfg.backup.compression));
  backup::CreateOptions& o = plan.options;
  o.app_root = cfg.app.root;
  for (const auto& inc : cfg.backup.include) {
    if (config::IsDatabaseSource(inc)) {
      plan.with_database = true;  // "db", "db:NAME": a database's stream source
    } else {
      o.include.push_back(inc);
    }
  }
  if (o.include.empty() && !plan.with_database) {
    return UsageError(std::string(Tr("backup.include names nothing to back up")));
  }
  o.exclude = cfg.backup.exclude;
  o.allow_empty = cfg.backup.allow_empty;
  o.strategy = *parsed_strategy;
  o.codec = codec;
  o.level = cfg.backup.compression_level;
  o.velin_version = kVersion;
  o.host = cfg.app.host;
  o.app = cfg.app.name;
  o.dry_run = dry_run;
  backup::AfterCreateOptions& after = plan.after;
  after.offsite = dry_run ? "" : cfg.backup.offsite;
  after.offsite_writer.codec = codec;
  after.offsite_writer.level = cfg.backup.compression_level;
  after.prune_after_create = !dry_run && cfg.backup.prune_after_create;
  after.rules = RetentionRulesOf(cfg);
  // Only this host's and app's groups: other hosts' and apps' retention is theirs.
  after.mine = repo::SnapshotFilter{false, cfg.app.host, cfg.app.name};
  after.prune.repack_threshold = cfg.backup.repack_threshold;
  return plan;
}

backup::RetentionRules RetentionRulesOf(const config::Config& cfg) {
  const config::BackupSection& b = cfg.backup;
  return {b.retention_days,
          b.keep_last,
          b.keep_daily,
          b.keep_weekly,
          b.keep_monthly,
          b.keep_yearly,
          cfg.rollback.keep_transaction_backups};
}

}  // namespace velin::cli
