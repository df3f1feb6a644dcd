#include "velin/cli/create_plan.hpp"

#include <gtest/gtest.h>

namespace velin::cli {
namespace {

config::Config Cfg(const std::string& toml) {
  auto c = config::LoadConfigFromString(toml, "/srv/shop/velin.toml");
  EXPECT_TRUE(c) << c.error().message;
  return c ? *c : config::Config();
}

// "db:NAME" is a database's stream, never a path of the walk; a backup of only named databases
// has something to back up.
TEST(CreatePlan, NamedDatabasesAreStreamsNotPaths) {
  auto cfg =
      Cfg("[backup]\ninclude = [\"db:queue\", \"storage\"]\n[databases.queue]\ndriver = "
          "\"sqlite\"\npath = \"var/q.db\"\n");
  auto plan = PlanCreate(cfg, "");
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->options.include, std::vector<std::string>{"storage"});
  EXPECT_TRUE(plan->with_database);
  auto only =
      Cfg("[backup]\ninclude = [\"db:queue\"]\n[databases.queue]\ndriver = \"sqlite\"\npath = "
          "\"var/q.db\"\n");
  plan = PlanCreate(only, "");
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_TRUE(plan->options.include.empty());
}

TEST(CreatePlan, MapsTheConfigurationToTheArchiverAndTheFollowUpSteps) {
  auto cfg =
      Cfg("[app]\nhost = \"web1\"\nname = \"shop\"\n[backup]\ninclude = [\"db\", \"storage\", "
          "\"config\"]\nexclude = [\"*.tmp\"]\nallow_empty = [\"config\"]\ncompression = \"gzip\"\n"
          "compression_level = 5\nstrategy = \"incremental\"\noffsite = \"/mnt/offsite\"\n"
          "keep_last = 7\nrepack_threshold = 0.4\n[rollback]\nkeep_transaction_backups = 3\n"
          "[database]\ndriver = \"sqlite\"\npath = \"var/app.db\"\n");
  auto plan = PlanCreate(cfg, "");
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->options.app_root, "/srv/shop");
  EXPECT_EQ(plan->options.include, (std::vector<std::string>{"storage", "config"}));
  EXPECT_TRUE(plan->with_database);
  EXPECT_EQ(plan->options.exclude, std::vector<std::string>{"*.tmp"});
  EXPECT_EQ(plan->options.allow_empty, std::vector<std::string>{"config"});
  EXPECT_EQ(plan->options.codec, repo::Codec::kGzip);
  EXPECT_EQ(plan->options.level, 5);
  EXPECT_EQ(plan->options.strategy, repo::Strategy::kIncremental);
  EXPECT_EQ(plan->options.host, "web1");
  EXPECT_EQ(plan->options.app, "shop");
  EXPECT_FALSE(plan->options.dry_run);
  const backup::AfterCreateOptions& after = plan->after;
  EXPECT_EQ(after.offsite, "/mnt/offsite");
  EXPECT_EQ(after.offsite_writer.codec, repo::Codec::kGzip);  // the offsite packs alike
  EXPECT_EQ(after.offsite_writer.level, 5);
  EXPECT_TRUE(after.prune_after_create);
  EXPECT_EQ(after.rules.keep_last, 7);
  EXPECT_EQ(after.rules.keep_daily, 0);
  EXPECT_EQ(after.rules.keep_transaction_backups, 3);
  EXPECT_DOUBLE_EQ(after.prune.repack_threshold, 0.4);
  // Forget works in this host's and app's groups only.
  EXPECT_FALSE(after.mine.all);
  EXPECT_EQ(after.mine.host, "web1");
  EXPECT_EQ(after.mine.app, "shop");
  // --strategy wins over backup.strategy; a dry run has no follow-up steps.
  auto dry = PlanCreate(cfg, "full", true);
  ASSERT_TRUE(dry);
  EXPECT_EQ(dry->options.strategy, repo::Strategy::kFull);
  EXPECT_TRUE(dry->options.dry_run);
  EXPECT_EQ(dry->after.offsite, "");
  EXPECT_FALSE(dry->after.prune_after_create);
}

TEST(CreatePlan, RefusesABadStrategyAndAnEmptyInclude) {
  auto bad = PlanCreate(Cfg("[backup]\ninclude = [\"storage\"]\n"), "weekly");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ExitCode::kUsage);
  EXPECT_NE(bad.error().message.find("--strategy 'weekly'"), std::string::npos);
  auto none = PlanCreate(Cfg("[backup]\nprune_after_create = false\n"), "");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ExitCode::kUsage);
  EXPECT_NE(none.error().message.find("names nothing"), std::string::npos);
}

}  // namespace
}  // namespace velin::cli
