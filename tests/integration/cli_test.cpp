// The CLI contract of the foundation: help, version, global flags anywhere, config check.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/test_support.hpp"

namespace velin {
namespace {

using testing::RunVelin;
using testing::TempDir;
using testing::WriteFile;

TEST(Cli, HelpListsTheCommandGroups) {
  auto r = RunVelin({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* group : {"backup", "rollback", "config"}) {
    EXPECT_NE(r.out.find(group), std::string::npos) << group;
  }
}

TEST(Cli, VersionPrintsTheVersion) {
  auto r = RunVelin({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("velin ", 0), 0u) << r.out;
}

TEST(Cli, UnknownCommandIsAUsageError) {
  auto r = RunVelin({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("error:"), std::string::npos);
  EXPECT_EQ(r.out, "");
}

TEST(Cli, GroupWithoutSubcommandIsAUsageError) {
  EXPECT_EQ(RunVelin({"backup"}).exit_code, 2);
  EXPECT_EQ(RunVelin({"rollback"}).exit_code, 2);
}

TEST(Cli, ConfigCheckAcceptsTheExample) {
  auto r = RunVelin({"config", "check", "--config", testing::SourceDir() + "/velin.toml.example"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("is valid"), std::string::npos);
  EXPECT_NE(r.out.find("backup.compression = \"zstd\""), std::string::npos) << r.out;
}

TEST(Cli, ConfigCheckNamesFileLineAndKeyOfAnUnknownKey) {
  TempDir dir;
  WriteFile(dir / "velin.toml", "[backup]\ninclude = [\"uploads\"]\ncompresion = \"gzip\"\n");
  auto r = RunVelin({"config", "check"}, {.cwd = dir.path()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "error: " + (dir / "velin.toml") +
                ":3:1: unknown key 'compresion' in [backup] (did you mean 'compression'?)\n");
}

TEST(Cli, GlobalFlagsWorkBeforeAndAfterTheCommand) {
  std::string example = testing::SourceDir() + "/velin.toml.example";
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"--json", "config", "check", "--config", example},
                                             {"config", "check", "--json", "--config", example},
                                             {"--config", example, "config", "--json", "check"}}) {
    auto r = RunVelin(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto doc = nlohmann::json::parse(r.out);  // the whole of stdout is one JSON document
    EXPECT_TRUE(doc["valid"].get<bool>());
    EXPECT_EQ(doc["config"]["backup"]["compression"], "zstd");
    EXPECT_EQ(doc["config"]["rollback"]["health_timeout"], "30s");
  }
}

TEST(Cli, ConfigIsFoundInAParentDirectory) {
  TempDir dir;
  WriteFile(dir / "velin.toml", "[backup]\ninclude = [\"uploads\"]\n");
  WriteFile(dir / "deep/er/file", "");
  auto r = RunVelin({"--json", "config", "check"}, {.cwd = dir / "deep/er"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["file"], dir / "velin.toml");
  EXPECT_EQ(doc["config"]["app"]["root"], dir.path());
}

TEST(Cli, MissingConfigIsAUsageErrorNamingWhereVelinLooked) {
  TempDir dir;
  auto r = RunVelin({"config", "check"}, {.cwd = dir.path()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no velin.toml in " + dir.path()), std::string::npos) << r.err;
}

TEST(Cli, JsonErrorsAreJsonToo) {
  TempDir dir;
  WriteFile(dir / "velin.toml", "[monitor]\nmax_age = \"10x\"\n");
  auto r = RunVelin({"config", "check", "--json"}, {.cwd = dir.path()});
  EXPECT_EQ(r.exit_code, 2);
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["error"]["exit_code"], 2);
  EXPECT_NE(doc["error"]["message"].get<std::string>().find("\"10x\" is not a duration"),
            std::string::npos);
}

TEST(Cli, EnvironmentOverridesShowInConfigCheck) {
  TempDir dir;
  WriteFile(dir / "velin.toml", "[backup]\ncompression = \"zstd\"\n");
  auto r = RunVelin({"--json", "config", "check"},
                    {.cwd = dir.path(), .env = {{"VELIN_BACKUP_COMPRESSION", "gzip"}}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["config"]["backup"]["compression"], "gzip");
}

TEST(Cli, PlainOutputWhenNotATerminal) {
  auto r = RunVelin({"config", "check", "--config", testing::SourceDir() + "/velin.toml.example"},
                    {.env = {{"LANG", "C"}}});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.find("✓"), std::string::npos);
  EXPECT_EQ(r.out.find("\033["), std::string::npos);
}

TEST(Cli, GermanMessagesFollowLang) {
  auto r = RunVelin({"config", "check", "--config", testing::SourceDir() + "/velin.toml.example"},
                    {.env = {{"LANG", "de_DE.UTF-8"}}, .unset_env = {"LC_ALL", "LC_MESSAGES"}});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("ist gültig"), std::string::npos) << r.out;
}

TEST(Cli, LogFileIsOpenedFromTheConfig) {
  TempDir dir;
  WriteFile(dir / "velin.toml", "[log]\nfile = \"logs/velin.log\"\n[backup]\ninclude = [\"x\"]\n");
  auto ok = RunVelin({"config", "check"}, {.cwd = dir.path()});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_TRUE(std::filesystem::exists(dir / "logs/velin.log"));
}

}  // namespace
}  // namespace velin
