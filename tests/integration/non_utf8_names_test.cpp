// Names that are not UTF-8: a file or a symlink's text in Latin-1, an application directory
// named in Latin-1, a `--reason` or a version's description typed on a Latin-1 terminal. velin's
// documents are UTF-8 JSON, and before, such a name killed velin with an uncaught exception
// (SIGABRT, a core dump) in `rollback create-version`, `to-version`, `begin` and `backup create`
// — a create-version leaving an unregistered release behind. Now names that must come back
// exactly (artifact paths, symlink texts) are stored as base64 and come back byte for byte;
// descriptive text is stored with U+FFFD for the bytes that are not UTF-8; `--json` output
// carries KEY_base64 beside a string it had to change; and a config value that is recorded in
// each backup (app.name, app.host, backup.include) must be text: refused with one line.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/backup_fixture.hpp"
#include "support/rollback_app.hpp"
#include "velin/core/text_encoding.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

const std::string kLatin1 = "caf\xe9";            // "café" in Latin-1
const std::string kReplaced = "caf\xEF\xBF\xBD";  // what JSON shows of it

std::string LinkText(const std::string& path) {
  char buf[4096];
  const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
}

TEST(NonUtf8NamesTest, AReleaseKeepsItsFileNamesAndLinkTextsByteForByte) {
  ToyApp app(NoService());
  app.Build("v1");
  WriteFile(app.app() + "/bin/" + kLatin1 + ".txt", "latin-1 name\n");
  ASSERT_EQ(::symlink(("../" + kLatin1).c_str(), (app.app() + "/bin/link").c_str()), 0);
  RunResult r = app.Velin({"rollback", "create-version", "v1 - " + kLatin1 + " release"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // Only a manifest that needs base64 is format 2; its names are exact.
  const nlohmann::json manifest =
      nlohmann::json::parse(ReadFileOrDie(app.state() + "/manifests/v1.json"));
  EXPECT_EQ(manifest["format"], 2) << manifest.dump();
  EXPECT_NE(manifest.dump().find("\"path_base64\":\"" + Base64Encode("bin/" + kLatin1 + ".txt")),
            std::string::npos)
      << manifest.dump();

  fs::remove(app.app() + "/bin/" + kLatin1 + ".txt");
  fs::remove(app.app() + "/bin/link");
  ASSERT_EQ(app.BuildVersion("v2").exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(ReadFileOrDie(app.state() + "/manifests/v2.json"))["format"], 1);

  r = app.Velin({"rollback", "to-version", "v2", "--reason", "r" + kLatin1 + "son"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  r = app.Velin({"rollback", "to-version", "v1"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/" + kLatin1 + ".txt"), "latin-1 name\n");
  EXPECT_EQ(LinkText(app.app() + "/current/bin/link"), "../" + kLatin1);

  // A transaction with such a reason opens and commits.
  r = app.Velin({"rollback", "begin", "--reason", "deploy " + kLatin1});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  r = app.Velin({"rollback", "commit"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  // The descriptive text reads back as text, U+FFFD for the byte.
  r = app.Velin({"rollback", "list", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto list = nlohmann::json::parse(r.out);
  bool found = false;
  for (const auto& v : list["versions"]) {
    if (v["name"] == "v1") {
      EXPECT_EQ(v["description"], kReplaced + " release") << v.dump();
      found = true;
    }
  }
  EXPECT_TRUE(found) << r.out;
  r = app.Velin({"rollback", "history", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("r" + kReplaced + "son"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("deploy " + kReplaced), std::string::npos) << r.out;
}

TEST(NonUtf8NamesTest, ABackupOfAnAppInALatin1DirectoryKeepsItsNamesAndFollowsItsLink) {
  BackupApp app({"storage/uploads"});
  const std::string root = app.path(kLatin1 + "-app");
  const std::string nas = app.path("nas-" + kLatin1);
  WriteFile(nas + "/" + kLatin1 + ".jpg", "jpeg");
  WriteFile(nas + "/plain.jpg", "plain");
  fs::create_directories(root + "/storage");
  ASSERT_EQ(::symlink(nas.c_str(), (root + "/storage/uploads").c_str()), 0);
  RunOptions in_root;
  in_root.env["VELIN_APP_ROOT"] = root;

  RunResult r = app.Run({"backup", "create"}, in_root);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  nlohmann::json list = app.Json({"backup", "list"}, 0, in_root);
  ASSERT_EQ(list["backups"].size(), 1u) << list.dump();
  EXPECT_EQ(list["backups"][0]["app"], kReplaced + "-app");

  // --json: the exact name beside the one JSON can show; --only takes the exact name.
  nlohmann::json ls = app.Json({"backup", "ls", "latest", "storage/uploads"}, 0, in_root);
  std::string exact;
  for (const auto& e : ls["entries"]) {
    if (e.contains("path_base64")) exact = *Base64Decode(e["path_base64"].get<std::string>());
  }
  EXPECT_EQ(exact, "storage/uploads/" + kLatin1 + ".jpg") << ls.dump();
  nlohmann::json found = app.Json({"backup", "find", "caf*"}, 0, in_root);
  ASSERT_EQ(found["matches"].size(), 1u) << found.dump();
  EXPECT_EQ(found["matches"][0]["path"], "storage/uploads/" + kReplaced + ".jpg");
  EXPECT_EQ(*Base64Decode(found["matches"][0]["path_base64"].get<std::string>()), exact);
  const std::string target = app.path("out");
  r = app.Run({"backup", "restore", "latest", "--only", exact, "--target", target}, in_root);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadFileOrDie(target + "/" + exact), "jpeg");
  EXPECT_FALSE(fs::exists(target + "/storage/uploads/plain.jpg"));

  // In place: behind the link whose text is not UTF-8, which the backup recorded exactly.
  fs::remove(nas + "/" + kLatin1 + ".jpg");
  r = app.Run({"backup", "restore", "latest", "--yes"}, in_root);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadFileOrDie(nas + "/" + kLatin1 + ".jpg"), "jpeg");
  EXPECT_EQ(LinkText(root + "/storage/uploads"), nas);
  r = app.Run({"backup", "verify", "latest"}, in_root);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST(NonUtf8NamesTest, AnIdentityOrIncludeFromTheEnvironmentMustBeText) {
  BackupApp app({"storage"});
  WriteFile(app.root() + "/storage/a", "a");
  struct Case {
    const char* variable;
    std::string value;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"VELIN_APP_HOST", "web-" + kLatin1,
            "error: environment VELIN_APP_HOST: key 'host' in [app] is not UTF-8 text\n"},
           {"VELIN_APP_NAME", kLatin1,
            "error: environment VELIN_APP_NAME: key 'name' in [app] is not UTF-8 text\n"},
           {"VELIN_BACKUP_INCLUDE", "storage," + kLatin1,
            "error: environment VELIN_BACKUP_INCLUDE: key 'include' in [backup]: \"" + kLatin1 +
                "\" is not UTF-8 text\n"},
       }) {
    RunOptions o;
    o.env[c.variable] = c.value;
    RunResult r = app.Run({"backup", "create"}, o);
    EXPECT_EQ(r.exit_code, 2) << c.variable;
    EXPECT_EQ(r.err, c.message);
    EXPECT_FALSE(fs::exists(app.repo() + "/snapshots")) << c.variable;
  }
}

}  // namespace
}  // namespace velin::testing
